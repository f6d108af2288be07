{#- Every satisfaction answer up to as_of: one row per response. CSAT (1-5) is the post-resolution
    survey on a support ticket, dated when the ticket was solved; NPS (0-10) is the `score` of a
    Segment `Survey Submitted` event. -#}
with tickets as (
    select * from {{ ref('int_customer_tickets') }}
),

customer_events as (
    select * from {{ ref('customer_events') }}
),

csat_responses as (
    select
        'csat:' || ticket_id as feedback_id,
        customer_id,
        'csat' as feedback_type,
        csat_score as score,
        coalesce(solved_at, updated_at) as responded_at
    from tickets
    where csat_score is not null
),

nps_responses as (
    select
        'nps:' || event_id as feedback_id,
        customer_id,
        'nps' as feedback_type,
        {{ waymark.json_int('properties', '$.score') }} as score,
        occurred_at as responded_at
    from customer_events
    where event_type = 'track'
      and event_name = 'Survey Submitted'
),

responses as (
    select * from csat_responses
    union all
    select * from nps_responses
),

final as (
    select *
    from responses
    where score is not null
      and responded_at <= {{ waymark.as_of() }}
)

select * from final
