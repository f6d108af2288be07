{#- Loyal customers and RFM champions who granted ads_personalisation consent: the seed list for
    lookalike audiences. One row per customer, qualified when both held: the later of the consent
    grant and becoming loyal (for champions, their last order). -#}
with customers as (
    select * from {{ ref('customers') }}
),

consent_latest as (
    select * from {{ ref('int_consent_latest') }}
),

ads_consent as (
    select
        customer_id,
        decided_at as consented_at
    from consent_latest
    where purpose = 'ads_personalisation'
      and status = 'granted'
),

vips as (
    select
        customers.customer_id,
        greatest(
            ads_consent.consented_at,
            case when customers.lifecycle_stage = 'loyal' then customers.lifecycle_stage_since
                else customers.last_order_at end
        ) as qualified_at,
        customers.lifecycle_stage,
        customers.rfm_segment,
        customers.revenue,
        ads_consent.consented_at
    from customers
    inner join ads_consent on customers.customer_id = ads_consent.customer_id
    where customers.lifecycle_stage = 'loyal'
       or customers.rfm_segment = 'champions'
)

select * from vips
