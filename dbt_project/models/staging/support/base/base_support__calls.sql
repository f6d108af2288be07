{{ config(
    materialized=waymark.landed_file_materialization(),
    incremental_strategy="append",
    on_schema_change="fail",
    pre_hook="{{ waymark.forget_stale_files('support', 'calls') }}",
    post_hook="{{ waymark.keep_rejected_lines('support', 'calls') }}",
) }}
{#- Every contact-centre call as landed, typed and normalised, with `_quarantine_reason`. -#}
{%- set checks = [
    {'name': 'phone', 'type': "'phone'", 'raw': 'phone_raw', 'normalized': 'phone_normalized'},
] %}
with source as (
    {{ waymark.read_landed_csv('support', 'calls') }}
),

typed as {{ waymark.materialized_cte() }} (
    select
        nullif(trim(call_id), '') as call_id,
        nullif(trim(ticket_id), '') as ticket_id,
        nullif(trim(phone), '') as phone_raw,
        {{ waymark.normalize_phone('phone') }} as phone_normalized,
        lower(nullif(trim(direction), '')) as direction,
        lower(nullif(trim(reason), '')) as reason,
        try_cast(nullif(trim(handle_time_seconds), '') as integer) as handle_time_seconds,
        try_cast(nullif(trim(first_contact_resolution), '') as boolean) as is_first_contact_resolution,
        lower(nullif(trim(sentiment), '')) as sentiment,
        {{ waymark.parse_utc_timestamp('started_at') }} as started_at,
        {{ waymark.lacks_utc_offset('started_at') }} as _timestamp_assumed_utc,
        {{ waymark.raw_row_json(waymark.source_columns('support', 'calls')) }} as _raw_row,
        _source_file,
        _source_file_version
    from source
),

{{ waymark.blocklist_ctes('typed', checks) }},

checked as (
    select
        call_id,
        ticket_id,
        {{ waymark.unless_blocklisted(checks[0]) }} as phone,
        direction,
        reason,
        handle_time_seconds,
        is_first_contact_resolution,
        sentiment,
        started_at,
        case
            when call_id is null then 'missing_key: call_id'
            when started_at is null then 'unparseable_timestamp: started_at'
            when not {{ waymark.plausible_timestamp('started_at') }} then 'implausible_timestamp: started_at'
        end as _quarantine_reason,
        {{ waymark.invalid_fields(checks) }} as _invalid_fields,
        {{ waymark.raw_row_of_problems() }},
        _timestamp_assumed_utc,
        cast(null as bigint) as _source_line,
        _source_file,
        _source_file_version
    from typed
    {{- waymark.blocklist_joins(checks) }}
)

select * from checked
