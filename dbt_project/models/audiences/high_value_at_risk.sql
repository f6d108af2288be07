{#- Top-spend customers whose lifecycle stage is at_risk: monetary score at least
    audience_rules.high_value_min_monetary_score or revenue at least
    audience_rules.high_value_min_revenue_usd. One row per customer, qualified when they became
    at risk. -#}
{%- set rules = var('audience_rules') -%}

with customers as (
    select * from {{ ref('customers') }}
),

high_value_at_risk as (
    select
        customer_id,
        lifecycle_stage_since as qualified_at,
        revenue,
        m_score,
        order_count,
        last_order_at
    from customers
    where lifecycle_stage = 'at_risk'
      and (
          m_score >= {{ rules.high_value_min_monetary_score }}
          or revenue >= {{ rules.high_value_min_revenue_usd }}
      )
)

select * from high_value_at_risk
