{{ config(materialized="table") }}
{#- Everything a build could not use, with the reason: rows set aside (`row_quarantined`), single
    identifier fields that failed validation and were nulled (`field_nulled`), and CSV lines that
    could not be parsed (`malformed_row`). One row per problem. -#}
with
{%- for label, model, key in waymark.landed_base_models() %}
{{ model }} as (
    select * from {{ ref(model) }}
),
{%- endfor %}

landing_rejects as (
    select * from staging.landing_rejects
),

row_problems as (
    {%- for label, model, key in waymark.landed_base_models() %}
    select
        '{{ label }}' as source_name,
        _source_file as source_file,
        cast(null as bigint) as line_number,
        cast({{ key }} as {{ dbt.type_string() }}) as record_key,
        case when _quarantine_reason is not null then 'row_quarantined' else 'field_nulled' end as action,
        coalesce(_quarantine_reason, 'malformed_identifier: ' || _invalid_fields) as reason,
        _raw_row as raw_row
    from {{ model }}
    where _quarantine_reason is not null or _invalid_fields is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

parse_problems as (
    select
        source_name,
        source_file,
        line_number,
        cast(null as {{ dbt.type_string() }}) as record_key,
        'malformed_row' as action,
        reason,
        raw_row
    from landing_rejects
),

unioned as (
    select * from row_problems
    union all
    select * from parse_problems
)

select * from unioned
