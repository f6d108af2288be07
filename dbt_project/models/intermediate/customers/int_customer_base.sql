{#- Every customer known as of as_of: one row per customer with when they were first and last
    seen and when they first had a known (non-anonymous) identifier. Seen = the earliest of the
    identity graph's first sightings and the customer's timeline; identifiers or touchpoints
    after as_of do not count. -#}
with customer_identifiers as (
    select * from {{ ref('customer_identifiers') }}
),

customer_events as (
    select * from {{ ref('customer_events') }}
),

identifier_sightings as (
    select
        customer_id,
        min(first_seen_at) as first_seen_at,
        min(case when identifier_type <> 'anonymous_id' then first_seen_at end) as known_at
    from customer_identifiers
    where first_seen_at <= {{ waymark.as_of() }}
    group by customer_id
),

timeline_sightings as (
    select
        customer_id,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        min(case when attributed_by_type <> 'anonymous_id' then occurred_at end) as known_at
    from customer_events
    group by customer_id
),

combined as (
    select
        coalesce(identifier_sightings.customer_id, timeline_sightings.customer_id) as customer_id,
        least(identifier_sightings.first_seen_at, timeline_sightings.first_seen_at) as first_seen_at,
        coalesce(
            timeline_sightings.last_seen_at,
            identifier_sightings.first_seen_at
        ) as last_seen_at,
        least(identifier_sightings.known_at, timeline_sightings.known_at) as known_at
    from identifier_sightings
    full outer join timeline_sightings
        on identifier_sightings.customer_id = timeline_sightings.customer_id
)

select * from combined
