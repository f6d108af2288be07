{{ config(materialized="table") }}
{#- Everything a build could not use, with the reason: rows set aside (`row_quarantined`), fields
    that failed validation and were nulled (`field_nulled`), lines the reader could not parse
    (`malformed_row`, with file and line number) and files in a source's folder that it does not
    read (`file_not_read`). One row per problem. -#}
with
{%- for label, model, key in waymark.landed_base_models() %}
{{ model }} as (
    select * from {{ ref(model) }}
),
{%- endfor %}

landed_files as (
    select * from {{ source('landing_zone', 'landed_files') }}
),

row_problems as (
    {%- for label, model, key in waymark.landed_base_models() %}
    select
        '{{ label }}' as source_name,
        _source_file as source_file,
        _source_line as line_number,
        cast({{ key }} as {{ dbt.type_string() }}) as record_key,
        case
            when _source_line is not null then 'malformed_row'
            when _quarantine_reason is not null then 'row_quarantined'
            else 'field_nulled'
        end as action,
        coalesce(_quarantine_reason, _invalid_fields) as reason,
        _raw_row as raw_row
    from {{ model }}
    where _quarantine_reason is not null or _invalid_fields is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

file_problems as (
    select
        source_name,
        file_path as source_file,
        cast(null as bigint) as line_number,
        cast(null as {{ dbt.type_string() }}) as record_key,
        'file_not_read' as action,
        reason,
        cast(null as {{ dbt.type_string() }}) as raw_row
    from landed_files
    where source_name is not null and not is_read
),

unioned as (
    select * from row_problems
    union all
    select * from file_problems
)

select * from unioned
