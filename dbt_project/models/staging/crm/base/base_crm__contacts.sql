{{ config(
    materialized=waymark.landed_file_materialization(),
    incremental_strategy="append",
    on_schema_change="fail",
    pre_hook="{{ waymark.forget_stale_files('crm', 'contacts') }}",
    post_hook="{{ waymark.keep_rejected_lines('crm', 'contacts') }}",
) }}
{#- Every CRM contact row as landed, typed and normalised, with the reason it cannot be used
    (`_quarantine_reason`) or the identifiers that failed validation (`_invalid_fields`). -#}
{%- set checks = [
    {'name': 'email', 'type': "'email'", 'raw': 'email_raw', 'normalized': 'email_normalized'},
    {'name': 'phone', 'type': "'phone'", 'raw': 'phone_raw', 'normalized': 'phone_normalized'},
] %}
with source as (
    {{ waymark.read_landed_csv('crm', 'contacts') }}
),

typed as {{ waymark.materialized_cte() }} (
    select
        nullif(trim(contact_id), '') as crm_contact_id,
        nullif(trim(email), '') as email_raw,
        nullif(trim(phone), '') as phone_raw,
        {{ waymark.normalize_email('email') }} as email_normalized,
        {{ waymark.normalize_phone('phone', 'country') }} as phone_normalized,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        nullif(trim(company), '') as company,
        nullif(trim(owner), '') as owner,
        upper(nullif(trim(country), '')) as country,
        {{ waymark.parse_utc_timestamp('created_at') }} as created_at,
        {{ waymark.parse_utc_timestamp('updated_at') }} as updated_at_parsed,
        nullif(trim(updated_at), '') is not null as updated_at_given,
        {{ waymark.lacks_utc_offset('created_at') }} as _timestamp_assumed_utc,
        {{ waymark.raw_row_json(waymark.source_columns('crm', 'contacts')) }} as _raw_row,
        _source_file,
        _source_file_version
    from source
),

{{ waymark.blocklist_ctes('typed', checks) }},

checked as (
    select
        crm_contact_id,
        {{ waymark.unless_blocklisted(checks[0]) }} as email,
        {{ waymark.unless_blocklisted(checks[1]) }} as phone,
        first_name,
        last_name,
        company,
        owner,
        country,
        created_at,
        coalesce({{ waymark.if_plausible('updated_at_parsed') }}, created_at) as updated_at,
        case
            when crm_contact_id is null then 'missing_key: contact_id'
            when created_at is null then 'unparseable_timestamp: created_at'
            when not {{ waymark.plausible_timestamp('created_at') }} then 'implausible_timestamp: created_at'
        end as _quarantine_reason,
        {{ waymark.nulled_fields([waymark.invalid_fields(checks), waymark.optional_timestamp_problem('updated_at')]) }} as _invalid_fields,
        {{ waymark.raw_row_of_problems() }},
        _timestamp_assumed_utc,
        cast(null as bigint) as _source_line,
        _source_file,
        _source_file_version
    from typed
    {{- waymark.blocklist_joins(checks) }}
)

select * from checked
