{{ config(materialized="table") }}
{#- Every email/SMS delivery or engagement event as landed, with the recipient normalised by channel. -#}
with source as (
    {{ waymark.read_landed_csv('messaging', 'engagement') }}
),

typed as (
    select
        nullif(trim(engagement_id), '') as engagement_id,
        lower(nullif(trim(channel), '')) as channel,
        nullif(trim(recipient), '') as recipient_raw,
        {{ waymark.normalize_email('recipient') }} as email_normalized,
        {{ waymark.normalize_phone('recipient') }} as phone_normalized,
        lower(nullif(trim(event_type), '')) as event_type,
        lower(nullif(trim(bounce_type), '')) as bounce_type,
        nullif(trim(campaign), '') as campaign,
        nullif(trim(url), '') as url,
        {{ waymark.parse_utc_timestamp('occurred_at') }} as occurred_at,
        {{ waymark.raw_row_json(waymark.source_columns('messaging', 'engagement')) }} as _raw_row,
        _source_file
    from source
),

checked as (
    select
        engagement_id,
        channel,
        case when channel = 'email' then {{ waymark.clean_identifier('email', 'email_normalized') }} end as email,
        case when channel = 'sms' then {{ waymark.clean_identifier('phone', 'phone_normalized') }} end as phone,
        event_type,
        bounce_type,
        campaign,
        url,
        occurred_at,
        case
            when engagement_id is null then 'missing_key: engagement_id'
            when occurred_at is null then 'unparseable_timestamp: occurred_at'
            when channel not in ('email', 'sms') or channel is null then 'unknown_channel: channel'
            when event_type not in ('delivered', 'opened', 'clicked', 'bounced', 'unsubscribed', 'complained')
                or event_type is null then 'unknown_event_type: event_type'
        end as _quarantine_reason,
        case
            when channel = 'email' then {{ waymark.invalid_fields([('email', 'recipient_raw', 'email_normalized')]) }}
            when channel = 'sms' then {{ waymark.invalid_fields([('phone', 'recipient_raw', 'phone_normalized')]) }}
        end as _invalid_fields,
        _raw_row,
        _source_file
    from typed
)

select * from checked
