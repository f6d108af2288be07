{{ config(
    materialized='incremental',
    incremental_strategy=waymark.upsert_strategy(),
    unique_key='event_id',
    on_schema_change='fail',
    pre_hook=[
        "{% if is_incremental() %}delete from {{ this }} where source_name <> 'events' or occurred_at > {{ waymark.as_of() }}{% endif %}",
        "{{ waymark.forget_stale_loads('stg_events__segment', \"source_name = 'events'\") }}",
    ],
) }}
{#- Every touchpoint with the customer it belongs to: one row per touchpoint. Attributed by the
    row's strongest identifier that resolves (macros/attribution.sql); `customer_id` is null when
    none does. `customer_events` shows the attributed rows and `int_customer_events_unattributed`
    the rest, so nothing disappears uncounted.

    Incremental, because the event history is by far the largest input. A build attributes:
    - Segment events from files not attributed before, or later than the latest attributed one
      (an as_of that moved forward); the events of a file that changed or was withdrawn leave
      first (pre-hook), and then every event not attributed is a candidate, so a copy of an
      event in another file takes the place of a withdrawn one;
    - every touchpoint from the other sources, which land as full snapshots (the pre-hook
      removes their previous rows, and rows after as_of, first);
    - earlier events whose customer changed: their attributing identifier now resolves to
      another customer (two customers merged, or an identifier moved), or nothing resolved.
    A full refresh gives the same table (tests/test_identity_stability.py). -#}
{%- set stale = waymark.stale_loaded_files('stg_events__segment', "source_name = 'events'") %}
with touchpoints as (
    select * from {{ ref('int_customer_events_unioned') }}
),

customer_identifiers as (
    select * from {{ ref('customer_identifiers') }}
),
{%- if is_incremental() %}

attributed_before as (
    select event_id, _source_file, occurred_at, customer_id, attributed_by_type, attributed_by_value
    from {{ this }}
),

attributed_files as (
    select distinct _source_file from attributed_before where _source_file is not null
),

reattribute as (
    select attributed_before.event_id
    from attributed_before
    left join customer_identifiers
        on customer_identifiers.identifier_type = attributed_before.attributed_by_type
        and customer_identifiers.identifier_value = attributed_before.attributed_by_value
    where attributed_before.customer_id is null
        or customer_identifiers.customer_id is null
        or customer_identifiers.customer_id <> attributed_before.customer_id
),

batch as (
    select touchpoints.*
    from touchpoints
    where touchpoints.source_name <> 'events'
        or touchpoints._source_file not in (select _source_file from attributed_files)
        or touchpoints.occurred_at > (select max(occurred_at) from attributed_before)
        or touchpoints.event_id in (select event_id from reattribute)
        {%- if stale %}
        or touchpoints.event_id not in (select event_id from attributed_before)
        {%- endif %}
),
{%- else %}

batch as (
    select * from touchpoints
),
{%- endif %}

attributed as (
    {{ waymark.attribute_to_customer('batch') }}
)

select * from attributed
