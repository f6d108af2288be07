{#- The golden record: one row per customer with at least one profile value, each field the
    surviving candidate under var('golden_record_survivorship') (macros/survivorship.sql). -#}
with candidates as (
    select * from {{ ref('int_golden_record_candidates') }}
),

survivors as (
    select
        customer_id,
        field_name,
        field_value
    from candidates
    where source_priority is not null
    qualify row_number() over (
        partition by customer_id, field_name
        order by {{ waymark.golden_record_survivor_order('source_priority', 'observed_at', 'field_value') }}
    ) = 1
),

golden_records as (
    select
        customer_id,
        {%- for field in waymark.golden_record_fields() %}
        max(case when field_name = '{{ field }}' then field_value end) as {{ field }}{{ ',' if not loop.last }}
        {%- endfor %}
    from survivors
    group by customer_id
)

select * from golden_records
