{{ config(materialized='view') }}
{#- The unified customer timeline: one row per touchpoint attributed to a customer, from every
    source, up to as_of. Unattributable touchpoints are in `int_customer_events_unattributed`.
    A view: the attributed rows live once, in the incremental `int_customer_events_attributed`. -#}
with attributed as (
    select * from {{ ref('int_customer_events_attributed') }}
),

customer_events as (
    select
        event_id,
        customer_id,
        source_record_id,
        source_name,
        event_type,
        event_name,
        channel,
        properties,
        attributed_by_type,
        attributed_by_value,
        occurred_at
    from attributed
    where customer_id is not null
)

select * from customer_events
