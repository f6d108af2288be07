{{ config(
    materialized=waymark.landed_file_materialization(),
    incremental_strategy="append",
    on_schema_change="fail",
    pre_hook="{{ waymark.forget_stale_files('ads', 'ad_clicks') }}",
    post_hook="{{ waymark.keep_rejected_lines('ads', 'ad_clicks') }}",
) }}
{#- Every ad click as landed and typed, with `_quarantine_reason`. -#}
{%- set checks = [
    {'name': 'landing_anonymous_id', 'type': "'anonymous_id'", 'raw': 'landing_anonymous_id_raw', 'normalized': 'landing_anonymous_id_raw'},
] %}
with source as (
    {{ waymark.read_landed_csv('ads', 'ad_clicks') }}
),

typed as {{ waymark.materialized_cte() }} (
    select
        nullif(trim(click_id), '') as click_id,
        lower(nullif(trim(platform), '')) as platform,
        nullif(trim(campaign_id), '') as campaign_id,
        nullif(trim(campaign_name), '') as campaign_name,
        nullif(trim(utm_source), '') as utm_source,
        nullif(trim(utm_medium), '') as utm_medium,
        nullif(trim(utm_campaign), '') as utm_campaign,
        nullif(trim(utm_content), '') as utm_content,
        nullif(trim(utm_term), '') as utm_term,
        nullif(trim(landing_anonymous_id), '') as landing_anonymous_id_raw,
        nullif(trim(landing_url), '') as landing_url,
        {{ waymark.parse_utc_timestamp('clicked_at') }} as clicked_at,
        {{ waymark.lacks_utc_offset('clicked_at') }} as _timestamp_assumed_utc,
        {{ waymark.raw_row_json(waymark.source_columns('ads', 'ad_clicks')) }} as _raw_row,
        _source_file,
        _source_file_version
    from source
),

{{ waymark.blocklist_ctes('typed', checks) }},

checked as (
    select
        click_id,
        platform,
        campaign_id,
        campaign_name,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_content,
        utm_term,
        {{ waymark.unless_blocklisted(checks[0]) }} as landing_anonymous_id,
        landing_url,
        clicked_at,
        case
            when click_id is null then 'missing_key: click_id'
            when clicked_at is null then 'unparseable_timestamp: clicked_at'
            when not {{ waymark.plausible_timestamp('clicked_at') }} then 'implausible_timestamp: clicked_at'
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
