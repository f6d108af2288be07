{#- Email and SMS delivery and engagement events: one row per engagement event. -#}
with base as (
    select * from {{ ref('base_messaging__engagement') }}
),

usable as (
    select
        engagement_id,
        channel,
        email,
        phone,
        event_type,
        bounce_type,
        campaign,
        url,
        occurred_at,
        _source_file
    from base
    where _quarantine_reason is null
    qualify row_number() over (partition by engagement_id order by _source_file desc) = 1
)

select * from usable
