{#- Every distinct combination of identifiers seen together on one source row, per source and
    rule: one row per (source, rule, anonymous_id, user_id, email, phone, crm_contact_id).
    Identifiers on one row are evidence that they belong to one person; single identifiers
    (a consent record, an ad click) still matter as nodes with first/last seen times. -#}
with events as (
    select * from {{ ref('stg_events__segment') }}
),

crm_contact_versions as (
    select * from {{ ref('stg_crm__contact_versions') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

tickets as (
    select * from {{ ref('stg_support__tickets') }}
),

calls as (
    select * from {{ ref('stg_support__calls') }}
),

consent_records as (
    select * from {{ ref('stg_consent__records') }}
),

ad_clicks as (
    select * from {{ ref('stg_ads__ad_clicks') }}
),

engagement as (
    select * from {{ ref('stg_messaging__engagement') }}
),

observations as (
    select
        'events' as source_name,
        case event_type
            when 'identify' then 'segment_identify'
            when 'alias' then 'segment_alias'
            else 'segment_event_ids'
        end as rule,
        event_id as source_record_id,
        occurred_at as observed_at,
        {#- Segment's alias joins previousId (in practice the anonymous id) to userId. -#}
        coalesce(anonymous_id, previous_id) as anonymous_id,
        user_id,
        email,
        phone,
        cast(null as {{ dbt.type_string() }}) as crm_contact_id
    from events

    union all

    select
        'crm' as source_name,
        'crm_contact' as rule,
        crm_contact_id as source_record_id,
        updated_at as observed_at,
        null as anonymous_id,
        null as user_id,
        email,
        phone,
        crm_contact_id
    from crm_contact_versions

    union all

    select
        'shop' as source_name,
        'order_customer' as rule,
        order_id as source_record_id,
        created_at as observed_at,
        null as anonymous_id,
        account_id as user_id,
        email,
        phone,
        null as crm_contact_id
    from orders

    union all

    select
        'support' as source_name,
        'support_ticket' as rule,
        ticket_id as source_record_id,
        created_at as observed_at,
        null as anonymous_id,
        null as user_id,
        email,
        phone,
        null as crm_contact_id
    from tickets

    union all

    select
        'support' as source_name,
        'support_call_on_ticket' as rule,
        calls.call_id as source_record_id,
        calls.started_at as observed_at,
        null as anonymous_id,
        null as user_id,
        tickets.email,
        calls.phone,
        null as crm_contact_id
    from calls
    left join tickets on calls.ticket_id = tickets.ticket_id

    union all

    select
        'consent' as source_name,
        'consent_record' as rule,
        consent_id as source_record_id,
        recorded_at as observed_at,
        null as anonymous_id,
        case when identifier_type = 'user_id' then identifier_value end as user_id,
        case when identifier_type = 'email' then identifier_value end as email,
        case when identifier_type = 'phone' then identifier_value end as phone,
        null as crm_contact_id
    from consent_records

    union all

    select
        'ads' as source_name,
        'ad_click_landing' as rule,
        click_id as source_record_id,
        clicked_at as observed_at,
        landing_anonymous_id as anonymous_id,
        null as user_id,
        null as email,
        null as phone,
        null as crm_contact_id
    from ad_clicks

    union all

    select
        'messaging' as source_name,
        'message_recipient' as rule,
        engagement_id as source_record_id,
        occurred_at as observed_at,
        null as anonymous_id,
        null as user_id,
        email,
        phone,
        null as crm_contact_id
    from engagement
),

identifier_sets as (
    select
        source_name,
        rule,
        anonymous_id,
        user_id,
        email,
        phone,
        crm_contact_id,
        {#- Ties on time go to the smallest record id, so reruns pick the same evidence. -#}
        min_by(
            source_record_id,
            {{ waymark.sortable_timestamp('observed_at') }} || '|' || source_record_id
        ) as first_source_record_id,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at,
        cast(count(*) as bigint) as evidence_count
    from observations
    where coalesce(anonymous_id, user_id, email, phone, crm_contact_id) is not null
    group by source_name, rule, anonymous_id, user_id, email, phone, crm_contact_id
)

select * from identifier_sets
