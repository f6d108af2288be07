{{ config(
    materialized=waymark.landed_file_materialization(),
    incremental_strategy="append",
    on_schema_change="fail",
    pre_hook="{{ waymark.forget_stale_files('events', 'segment_events') }}",
    post_hook="{{ waymark.keep_rejected_lines('events', 'segment_events') }}",
) }}
{#- Every line of every landed event file, parsed from the Segment spec, with the reason a line
    cannot be used. Incremental by file version like the CSV sources (macros/landed_file_loads.sql):
    a build reads only new and changed files, and the rows of changed or withdrawn files leave. -#}
{%- set checks = [
    {'name': 'anonymous_id', 'type': "'anonymous_id'", 'raw': 'anonymous_id_raw', 'normalized': 'anonymous_id_raw'},
    {'name': 'user_id', 'type': "'user_id'", 'raw': 'user_id_raw', 'normalized': 'user_id_raw'},
    {'name': 'previous_id', 'type': "'user_id'", 'raw': 'previous_id_raw', 'normalized': 'previous_id_raw'},
    {'name': 'email', 'type': "'email'", 'raw': 'email_raw', 'normalized': 'email_normalized'},
    {'name': 'phone', 'type': "'phone'", 'raw': 'phone_raw', 'normalized': 'phone_normalized'},
] %}
{%- set plan = waymark.landed_file_plan('events', 'segment_events') -%}

with lines as (
    {{ waymark.read_jsonl_lines(plan) }}
),

parsed as (
    select
        raw,
        _source_file,
        _source_file_version,
        {{ waymark.json_valid('raw') }} as is_valid_json
    from lines
),

documents as (
    {#- Only valid JSON reaches the extractors: engines evaluate both branches of a CASE. -#}
    select
        raw,
        _source_file,
        _source_file_version,
        is_valid_json,
        case when is_valid_json then raw end as document
    from parsed
),

fields as (
    {%- set text_fields = {
        'message_id': 'messageId', 'event_type': 'type', 'anonymous_id_raw': 'anonymousId',
        'user_id_raw': 'userId', 'previous_id_raw': 'previousId', 'group_id': 'groupId',
        'track_event': 'event', 'page_name': 'name', 'timestamp_raw': 'timestamp',
        'original_timestamp_raw': 'originalTimestamp', 'email_raw': 'traits.email',
        'phone_raw': 'traits.phone', 'first_name': 'traits.first_name',
        'last_name': 'traits.last_name', 'country': 'traits.country',
        'trait_timezone': 'traits.timezone', 'context_timezone': 'context.timezone',
        'locale': 'context.locale', 'page_url': 'context.page.url',
        'device_type': 'context.device.type', 'campaign_source': 'context.campaign.source',
        'campaign_medium': 'context.campaign.medium', 'campaign_name': 'context.campaign.name',
        'properties': 'properties',
    } %}
    {%- set shape = {
        'messageId': 'text', 'type': 'text', 'anonymousId': 'text', 'userId': 'text',
        'previousId': 'text', 'groupId': 'text', 'event': 'text', 'name': 'text',
        'timestamp': 'text', 'originalTimestamp': 'text', 'properties': 'json',
        'traits': {'email': 'text', 'phone': 'text', 'first_name': 'text', 'last_name': 'text',
                   'country': 'text', 'timezone': 'text'},
        'context': {'timezone': 'text', 'locale': 'text', 'page': {'url': 'text'},
                    'device': {'type': 'text'},
                    'campaign': {'source': 'text', 'medium': 'text', 'name': 'text'}},
    } %}
    select
        {%- for alias, path in text_fields.items() %}
        nullif(trim({{ waymark.json_struct_field('message', path) }}), '') as {{ alias }},
        {%- endfor %}
        {#- `traits` is also kept whole, as text; the struct holds only the fields read above. #}
        nullif(trim({{ waymark.json_str('document', '$.traits') }}), '') as traits,
        raw,
        is_valid_json,
        _source_file,
        _source_file_version
    from (
        select {{ waymark.json_struct('document', shape) }} as message, documents.*
        from documents
    ) as parsed_documents
),

typed as {{ waymark.materialized_cte() }} (
    select
        message_id as event_id,
        lower(event_type) as event_type,
        coalesce(track_event, page_name) as event_name,
        anonymous_id_raw,
        user_id_raw,
        previous_id_raw,
        email_raw,
        phone_raw,
        {{ waymark.normalize_email('email_raw') }} as email_normalized,
        {{ waymark.normalize_phone('phone_raw', 'country') }} as phone_normalized,
        group_id,
        first_name,
        last_name,
        upper(country) as country,
        coalesce(trait_timezone, context_timezone) as timezone,
        locale,
        page_url,
        device_type,
        campaign_source,
        campaign_medium,
        campaign_name,
        properties,
        traits,
        coalesce(
            {{ waymark.parse_utc_timestamp('timestamp_raw') }},
            {{ waymark.parse_utc_timestamp('original_timestamp_raw') }}
        ) as occurred_at,
        {#- Of the text the time was read from. #}
        case
            when {{ waymark.parse_utc_timestamp('timestamp_raw') }} is not null
                then {{ waymark.lacks_utc_offset('timestamp_raw') }}
            else {{ waymark.lacks_utc_offset('original_timestamp_raw') }}
        end as _timestamp_assumed_utc,
        track_event,
        raw as _raw_row,
        is_valid_json,
        _source_file,
        _source_file_version
    from fields
),

{{ waymark.blocklist_ctes('typed', checks) }},

checked as (
    select
        event_id,
        event_type,
        event_name,
        {{ waymark.unless_blocklisted(checks[0]) }} as anonymous_id,
        {{ waymark.unless_blocklisted(checks[1]) }} as user_id,
        {{ waymark.unless_blocklisted(checks[2]) }} as previous_id,
        group_id,
        {{ waymark.unless_blocklisted(checks[3]) }} as email,
        {{ waymark.unless_blocklisted(checks[4]) }} as phone,
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
        case
            when not is_valid_json then 'invalid_json'
            when event_id is null then 'missing_key: messageId'
            when event_type is null
                or event_type not in ('track', 'identify', 'page', 'screen', 'group', 'alias')
                then 'unknown_type: type'
            when occurred_at is null then 'unparseable_timestamp: timestamp'
            when not {{ waymark.plausible_timestamp('occurred_at') }} then 'implausible_timestamp: timestamp'
            when anonymous_id_raw is null and user_id_raw is null
                then 'missing_identity: anonymousId or userId'
            when event_type = 'track' and track_event is null then 'missing_field: event'
            when event_type = 'alias' and previous_id_raw is null then 'missing_field: previousId'
        end as _quarantine_reason,
        {{ waymark.invalid_fields(checks[3:]) }} as _invalid_fields,
        {{ waymark.raw_row_of_problems() }},
        _timestamp_assumed_utc,
        cast(null as bigint) as _source_line,
        _source_file,
        _source_file_version
    from typed
    {{- waymark.blocklist_joins(checks) }}
)

select * from checked
