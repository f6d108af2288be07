{{ config(
    materialized=waymark.landed_file_materialization(),
    incremental_strategy="append",
    on_schema_change="fail",
    pre_hook="{{ waymark.forget_stale_files('support', 'tickets') }}",
    post_hook="{{ waymark.keep_rejected_lines('support', 'tickets') }}",
) }}
{#- Every support ticket row as landed, typed and normalised, with `_quarantine_reason`. -#}
{%- set checks = [
    {'name': 'email', 'type': "'email'", 'raw': 'email_raw', 'normalized': 'email_normalized'},
    {'name': 'phone', 'type': "'phone'", 'raw': 'phone_raw', 'normalized': 'phone_normalized'},
] %}
with source as (
    {{ waymark.read_landed_csv('support', 'tickets') }}
),

typed as {{ waymark.materialized_cte() }} (
    select
        nullif(trim(ticket_id), '') as ticket_id,
        lower(nullif(trim(channel), '')) as channel,
        nullif(trim(email), '') as email_raw,
        nullif(trim(phone), '') as phone_raw,
        {{ waymark.normalize_email('email') }} as email_normalized,
        {{ waymark.normalize_phone('phone') }} as phone_normalized,
        lower(nullif(trim(reason), '')) as reason,
        lower(nullif(trim(status), '')) as status,
        try_cast(nullif(trim(csat_score), '') as integer) as csat_score,
        lower(nullif(trim(sentiment), '')) as sentiment,
        {{ waymark.parse_utc_timestamp('created_at') }} as created_at,
        {{ waymark.parse_utc_timestamp('updated_at') }} as updated_at_parsed,
        nullif(trim(updated_at), '') is not null as updated_at_given,
        {{ waymark.parse_utc_timestamp('solved_at') }} as solved_at_parsed,
        nullif(trim(solved_at), '') is not null as solved_at_given,
        {{ waymark.lacks_utc_offset('created_at') }} as _timestamp_assumed_utc,
        {{ waymark.raw_row_json(waymark.source_columns('support', 'tickets')) }} as _raw_row,
        _source_file,
        _source_file_version
    from source
),

{{ waymark.blocklist_ctes('typed', checks) }},

checked as (
    select
        ticket_id,
        channel,
        {{ waymark.unless_blocklisted(checks[0]) }} as email,
        {{ waymark.unless_blocklisted(checks[1]) }} as phone,
        reason,
        status,
        case when csat_score between 1 and 5 then csat_score end as csat_score,
        sentiment,
        created_at,
        coalesce({{ waymark.if_plausible('updated_at_parsed') }}, created_at) as updated_at,
        {{ waymark.if_plausible('solved_at_parsed') }} as solved_at,
        case
            when ticket_id is null then 'missing_key: ticket_id'
            when created_at is null then 'unparseable_timestamp: created_at'
            when not {{ waymark.plausible_timestamp('created_at') }} then 'implausible_timestamp: created_at'
        end as _quarantine_reason,
        {{ waymark.nulled_fields([
            waymark.invalid_fields(checks),
            waymark.optional_timestamp_problem('updated_at'),
            waymark.optional_timestamp_problem('solved_at'),
        ]) }} as _invalid_fields,
        {{ waymark.raw_row_of_problems() }},
        _timestamp_assumed_utc,
        cast(null as bigint) as _source_line,
        _source_file,
        _source_file_version
    from typed
    {{- waymark.blocklist_joins(checks) }}
)

select * from checked
