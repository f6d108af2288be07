{#- Customers who have been a lead for at least audience_rules.lead_min_age_days and never placed
    an order of any status: one row per customer, qualified when the lead turned that old. -#}
{%- set rules = var('audience_rules') -%}

with lifecycle_stage_history as (
    select * from {{ ref('lifecycle_stage_history') }}
),

orders as (
    select * from {{ ref('int_customer_orders') }}
),

current_leads as (
    select
        customer_id,
        valid_from as became_lead_at
    from lifecycle_stage_history
    where stage = 'lead'
      and valid_to is null
      and valid_from <= {{ dbt.dateadd('day', -1 * rules.lead_min_age_days, waymark.as_of()) }}
),

customers_with_orders as (
    select distinct customer_id
    from orders
),

new_leads as (
    select
        current_leads.customer_id,
        {{ dbt.dateadd('day', rules.lead_min_age_days, 'current_leads.became_lead_at') }} as qualified_at,
        current_leads.became_lead_at,
        {{ dbt.datediff('current_leads.became_lead_at', waymark.as_of(), 'day') }} as days_as_lead
    from current_leads
    left join customers_with_orders on current_leads.customer_id = customers_with_orders.customer_id
    where customers_with_orders.customer_id is null
)

select * from new_leads
