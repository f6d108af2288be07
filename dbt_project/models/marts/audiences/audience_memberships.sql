{{ config(materialized='view', pre_hook="{{ waymark.ensure_audience_histories() }}") }}
{#- Audience membership history across builds: one row per (audience_name, customer_id,
    entered_at); exited_at is null while the customer is a member. A view over the history
    table each audience model writes when it is built (macros/audiences.sql); the audiences are
    every model whose yml declares meta.audience, found in dbt's graph at run time. -#}
{%- set audiences = waymark.audience_nodes() -%}
{%- do waymark.validate_audience_nodes(audiences) -%}

with histories as (
    {%- for node in audiences %}
    select audience_name, customer_id, entered_at, exited_at, qualified_at, evaluated_as_of
    from {{ waymark.audience_history_relation(node.database, node.schema, node.alias) }}
    union all
    {%- endfor %}
    select
        {%- for name, data_type in waymark.audience_history_columns() %}
        cast(null as {{ data_type }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    where 1 = 0
),

memberships as (
    select
        audience_name || ':' || customer_id || ':' || {{ waymark.sortable_timestamp('entered_at') }} as membership_id,
        audience_name,
        customer_id,
        exited_at is null as is_active,
        entered_at,
        exited_at,
        qualified_at,
        evaluated_as_of
    from histories
)

select * from memberships
