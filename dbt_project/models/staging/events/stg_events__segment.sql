{#- Usable Segment events: one row per messageId (client retries deliver the same id twice;
    the first landed copy wins). -#}
with base as (
    select * from {{ ref('base_events__segment') }}
),

usable as (
    select
        event_id,
        event_type,
        event_name,
        anonymous_id,
        user_id,
        previous_id,
        group_id,
        email,
        phone,
        first_name,
        last_name,
        country,
        timezone,
        locale,
        page_url,
        device_type,
        campaign_source,
        campaign_medium,
        campaign_name,
        properties,
        traits,
        occurred_at,
        _source_file
    from base
    where _quarantine_reason is null
    qualify row_number() over (partition by event_id order by _source_file, occurred_at) = 1
)

select * from usable
