{{ config(
    materialized=waymark.landed_file_materialization(),
    incremental_strategy="append",
    on_schema_change="fail",
    pre_hook="{{ waymark.forget_stale_files('messaging', 'engagement') }}",
    post_hook="{{ waymark.keep_rejected_lines('messaging', 'engagement') }}",
) }}
{#- Every email/SMS delivery or engagement event as landed, with the recipient normalised by channel. -#}
{%- set checks = [
    {'name': 'recipient', 'type': "recipient_type", 'raw': 'recipient_raw',
     'normalized': "case channel when 'email' then email_normalized when 'sms' then phone_normalized end"},
] %}
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
        {{ waymark.lacks_utc_offset('occurred_at') }} as _timestamp_assumed_utc,
        {{ waymark.raw_row_json(waymark.source_columns('messaging', 'engagement')) }} as _raw_row,
        _source_file,
        _source_file_version
    from source
),

typed_by_channel as {{ waymark.materialized_cte() }} (
    select
        *,
        case channel when 'email' then 'email' when 'sms' then 'phone' end as recipient_type
    from typed
),

{{ waymark.blocklist_ctes('typed_by_channel', checks) }},

checked as (
    select
        engagement_id,
        channel,
        case when channel = 'email' then {{ waymark.unless_blocklisted(checks[0]) }} end as email,
        case when channel = 'sms' then {{ waymark.unless_blocklisted(checks[0]) }} end as phone,
        event_type,
        bounce_type,
        campaign,
        url,
        occurred_at,
        case
            when engagement_id is null then 'missing_key: engagement_id'
            when occurred_at is null then 'unparseable_timestamp: occurred_at'
            when not {{ waymark.plausible_timestamp('occurred_at') }} then 'implausible_timestamp: occurred_at'
            when channel not in ('email', 'sms') or channel is null then 'unknown_channel: channel'
            when event_type not in ('delivered', 'opened', 'clicked', 'bounced', 'unsubscribed', 'complained')
                or event_type is null then 'unknown_event_type: event_type'
        end as _quarantine_reason,
        case when channel in ('email', 'sms') then {{ waymark.invalid_fields(checks) }} end as _invalid_fields,
        {{ waymark.raw_row_of_problems() }},
        _timestamp_assumed_utc,
        cast(null as bigint) as _source_line,
        _source_file,
        _source_file_version
    from typed_by_channel
    {{- waymark.blocklist_joins(checks) }}
)

select * from checked
