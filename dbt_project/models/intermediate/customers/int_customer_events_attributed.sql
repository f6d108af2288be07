{{ config(materialized='view') }}
{#- Every touchpoint with the customer it belongs to: one row per touchpoint. Attributed by the
    row's strongest identifier that resolves (macros/attribution.sql); `customer_id` is null when
    none does. A view: `customer_events` keeps the attributed rows and
    `int_customer_events_unattributed` the rest, so nothing disappears uncounted. -#}
with touchpoints as (
    select * from {{ ref('int_customer_events_unioned') }}
),

customer_identifiers as (
    select * from {{ ref('customer_identifiers') }}
),

attributed as (
    {{ waymark.attribute_to_customer('touchpoints') }}
)

select * from attributed
