{{ config(materialized='view') }}
{#- Touchpoints no identifier could attribute to a customer: one row per touchpoint. Kept out of
    `customer_events`, counted here (per source and type) so nothing disappears silently. -#}
with attributed as (
    select * from {{ ref('int_customer_events_attributed') }}
),

unattributed as (
    select
        event_id,
        source_record_id,
        source_name,
        event_type,
        event_name,
        occurred_at,
        user_id,
        crm_contact_id,
        email,
        phone,
        anonymous_id
    from attributed
    where customer_id is null
)

select * from unattributed
