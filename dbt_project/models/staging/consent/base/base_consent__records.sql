{{ config(
    materialized=waymark.landed_file_materialization(),
    incremental_strategy="append",
    on_schema_change="fail",
    pre_hook="{{ waymark.forget_stale_files('consent', 'consent_records') }}",
    post_hook="{{ waymark.keep_rejected_lines('consent', 'consent_records') }}",
) }}
{#- Every consent change as landed, with its identifier normalised by type. -#}
{%- set checks = [
    {'name': 'identifier_value', 'type': "typed.identifier_type", 'raw': 'identifier_value_raw', 'normalized': 'identifier_value_normalized'},
] %}
with source as (
    {{ waymark.read_landed_csv('consent', 'consent_records') }}
),

typed as {{ waymark.materialized_cte() }} (
    select
        nullif(trim(consent_id), '') as consent_id,
        lower(nullif(trim(identifier_type), '')) as identifier_type,
        nullif(trim(identifier_value), '') as identifier_value_raw,
        case lower(trim(identifier_type))
            when 'email' then {{ waymark.normalize_email('identifier_value') }}
            when 'phone' then {{ waymark.normalize_phone('identifier_value') }}
            when 'user_id' then nullif(trim(identifier_value), '')
        end as identifier_value_normalized,
        lower(nullif(trim(purpose), '')) as purpose,
        lower(nullif(trim(status), '')) as status,
        lower(nullif(trim(source), '')) as consent_source,
        {{ waymark.parse_utc_timestamp('recorded_at') }} as recorded_at,
        {{ waymark.lacks_utc_offset('recorded_at') }} as _timestamp_assumed_utc,
        {{ waymark.raw_row_json(waymark.source_columns('consent', 'consent_records')) }} as _raw_row,
        _source_file,
        _source_file_version
    from source
),

{{ waymark.blocklist_ctes('typed', checks) }},

checked as (
    select
        consent_id,
        typed.identifier_type,
        {{ waymark.unless_blocklisted(checks[0]) }} as identifier_value,
        purpose,
        status,
        consent_source,
        recorded_at,
        case
            when consent_id is null then 'missing_key: consent_id'
            when recorded_at is null then 'unparseable_timestamp: recorded_at'
            when not {{ waymark.plausible_timestamp('recorded_at') }} then 'implausible_timestamp: recorded_at'
            when typed.identifier_type not in ('email', 'phone', 'user_id') or typed.identifier_type is null
                then 'unknown_identifier_type: identifier_type'
            when identifier_value_normalized is null then 'malformed_identifier: identifier_value'
            when blocked_identifier_value.candidate_value is not null
                then 'blocklisted_identifier: identifier_value'
            when purpose not in ('email_marketing', 'sms_marketing', 'ads_personalisation') or purpose is null
                then 'unknown_purpose: purpose'
            when status not in ('granted', 'denied', 'revoked') or status is null then 'unknown_status: status'
        end as _quarantine_reason,
        cast(null as {{ dbt.type_string() }}) as _invalid_fields,
        {{ waymark.raw_row_of_problems() }},
        _timestamp_assumed_utc,
        cast(null as bigint) as _source_line,
        _source_file,
        _source_file_version
    from typed
    {{- waymark.blocklist_joins(checks) }}
)

select * from checked
