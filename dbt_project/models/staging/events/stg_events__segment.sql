{{ config(
    materialized="incremental",
    incremental_strategy="append",
    on_schema_change="fail",
    pre_hook="{{ waymark.forget_stale_loads('base_events__segment') }}",
) }}
{#- Usable Segment events: one row per messageId (client retries deliver the same id twice;
    the first loaded copy wins; within one load, the first file by name). A table, incremental
    by file version like its base: every event consumer reads it, and deduplicating 20M events
    per consumer and per build was the largest cost of a build. When a loaded file changed or
    left, its rows go first (pre-hook) and every event no longer here is chosen again, so a
    copy in another file takes the place of a withdrawn one, as a full refresh would. -#}
{%- set stale = waymark.stale_loaded_files('base_events__segment') %}
with base as (
    select * from {{ ref('base_events__segment') }}
    {%- if is_incremental() and not stale %}
    where _source_file not in (select distinct _source_file from {{ this }})
    {%- endif %}
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
        _source_file,
        _source_file_version
    from base
    where _quarantine_reason is null
    qualify row_number() over (partition by event_id order by _source_file, occurred_at) = 1
)

select * from usable
{%- if is_incremental() %}
where not exists (select 1 from {{ this }} as loaded where loaded.event_id = usable.event_id)
{%- endif %}
