{{ config(materialized="incremental", incremental_strategy="append", full_refresh=false, on_schema_change="append_new_columns") }}
{#- Every time an identifier's customer id changed between builds: one row per (identifier,
    build) where its customer was created or changed. A change from an id that no longer exists
    to the id of the customer it joined is a merge (the earlier anchor survives). It survives
    `--full-refresh`, so the audit trail outlives rebuilds. -#}
with current_assignment as (
    select identifier_type, identifier_value, customer_id
    from {{ ref('customer_identifiers') }}
),

{%- if is_incremental() %}

previous_assignment as (
    select identifier_type, identifier_value, customer_id
    from {{ this }}
    qualify row_number() over (
        partition by identifier_type, identifier_value order by recorded_at desc, change_type desc
    ) = 1
),

{%- else %}

previous_assignment as (
    select
        cast(null as {{ dbt.type_string() }}) as identifier_type,
        cast(null as {{ dbt.type_string() }}) as identifier_value,
        cast(null as {{ dbt.type_string() }}) as customer_id
    where 1 = 0
),

{%- endif %}

surviving_customers as (
    select distinct customer_id from current_assignment
),

changes as (
    select
        current_assignment.identifier_type,
        current_assignment.identifier_value,
        current_assignment.customer_id,
        previous_assignment.customer_id as previous_customer_id,
        case
            when previous_assignment.customer_id is null then 'assigned'
            when surviving_customers.customer_id is null then 'merged'
            else 'moved'
        end as change_type,
        {{ waymark.as_of() }} as as_of,
        {#- The build's start time orders changes even when two builds share an as_of. -#}
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as recorded_at,
        '{{ invocation_id }}' as build_id
    from current_assignment
    left join previous_assignment
        on current_assignment.identifier_type = previous_assignment.identifier_type
        and current_assignment.identifier_value = previous_assignment.identifier_value
    left join surviving_customers
        on previous_assignment.customer_id = surviving_customers.customer_id
    where previous_assignment.customer_id is null
       or previous_assignment.customer_id <> current_assignment.customer_id
)

select * from changes
