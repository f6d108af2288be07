{{ config(materialized='view') }}
{#- Every touchpoint from every source in one shape, before attribution: one row per touchpoint
    (a Segment call, an order placed / delivered / cancelled / refunded, a ticket opened /
    solved, a call, a message event, a consent change, an ad click, a CRM contact created).
    Carries every identifier the source row holds; events after as_of are left out.
    A view: `customer_events` is its one big consumer. -#}
{%- set null_string = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}

with segment_events as (
    select * from {{ ref('stg_events__segment') }}
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

engagement as (
    select * from {{ ref('stg_messaging__engagement') }}
),

consent_records as (
    select * from {{ ref('stg_consent__records') }}
),

ad_clicks as (
    select * from {{ ref('stg_ads__ad_clicks') }}
),

crm_contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

segment_touchpoints as (
    select
        'segment:' || event_id as event_id,
        event_id as source_record_id,
        'events' as source_name,
        event_type,
        coalesce(event_name, event_type) as event_name,
        case when event_type = 'screen' or device_type in ('ios', 'android') then 'app' else 'web' end as channel,
        coalesce(properties, traits) as properties,
        occurred_at,
        user_id,
        {{ null_string }} as crm_contact_id,
        email,
        phone,
        {#- Segment's alias carries the anonymous id being aliased as previousId. #}
        coalesce(anonymous_id, previous_id) as anonymous_id,
        {#- The landed file and its version, so `int_customer_events_attributed` can pick up new
            files only and let go of changed or withdrawn ones. #}
        _source_file,
        _source_file_version
    from segment_events
),

order_milestones as (
    select order_id, 'order_placed' as event_type, created_at as occurred_at from orders
    union all
    select order_id, 'order_delivered' as event_type, delivered_at as occurred_at from orders
    where delivered_at is not null
    union all
    {#- Only the latest status is known; a cancellation or refund is dated by that export. #}
    select order_id, 'order_' || status as event_type, updated_at as occurred_at from orders
    where status in ('cancelled', 'refunded')
),

order_touchpoints as (
    select
        order_milestones.event_type || ':' || orders.order_id as event_id,
        orders.order_id as source_record_id,
        'shop' as source_name,
        order_milestones.event_type,
        orders.status as event_name,
        'shop' as channel,
        {{ waymark.json_object_text([
            ('order_id', 'orders.order_id'), ('status', 'orders.status'),
            ('currency', 'orders.currency'), ('total', 'orders.total'),
            ('shipping_country', 'orders.shipping_country'),
        ]) }} as properties,
        order_milestones.occurred_at,
        orders.account_id as user_id,
        {{ null_string }} as crm_contact_id,
        orders.email,
        orders.phone,
        {{ null_string }} as anonymous_id
    from order_milestones
    inner join orders on order_milestones.order_id = orders.order_id
),

ticket_milestones as (
    select ticket_id, 'ticket_opened' as event_type, created_at as occurred_at from tickets
    union all
    select ticket_id, 'ticket_solved' as event_type, solved_at as occurred_at from tickets
    where solved_at is not null
),

ticket_touchpoints as (
    select
        ticket_milestones.event_type || ':' || tickets.ticket_id as event_id,
        tickets.ticket_id as source_record_id,
        'support' as source_name,
        ticket_milestones.event_type,
        tickets.reason as event_name,
        tickets.channel,
        {{ waymark.json_object_text([
            ('ticket_id', 'tickets.ticket_id'), ('status', 'tickets.status'),
            ('reason', 'tickets.reason'), ('csat_score', 'tickets.csat_score'),
            ('sentiment', 'tickets.sentiment'),
        ]) }} as properties,
        ticket_milestones.occurred_at,
        {{ null_string }} as user_id,
        {{ null_string }} as crm_contact_id,
        tickets.email,
        tickets.phone,
        {{ null_string }} as anonymous_id
    from ticket_milestones
    inner join tickets on ticket_milestones.ticket_id = tickets.ticket_id
),

call_touchpoints as (
    select
        'call:' || calls.call_id as event_id,
        calls.call_id as source_record_id,
        'support' as source_name,
        'call' as event_type,
        calls.direction as event_name,
        'phone' as channel,
        {{ waymark.json_object_text([
            ('call_id', 'calls.call_id'), ('ticket_id', 'calls.ticket_id'),
            ('direction', 'calls.direction'), ('reason', 'calls.reason'),
            ('handle_time_seconds', 'calls.handle_time_seconds'),
            ('is_first_contact_resolution', 'calls.is_first_contact_resolution'),
            ('sentiment', 'calls.sentiment'),
        ]) }} as properties,
        calls.started_at as occurred_at,
        {{ null_string }} as user_id,
        {{ null_string }} as crm_contact_id,
        {#- The caller is also known by the email on the ticket the call was about. #}
        tickets.email,
        calls.phone,
        {{ null_string }} as anonymous_id
    from calls
    left join tickets on calls.ticket_id = tickets.ticket_id
),

engagement_touchpoints as (
    select
        'engagement:' || engagement_id as event_id,
        engagement_id as source_record_id,
        'messaging' as source_name,
        channel || '_' || event_type as event_type,
        campaign as event_name,
        channel,
        {{ waymark.json_object_text([
            ('campaign', 'campaign'), ('url', 'url'), ('bounce_type', 'bounce_type'),
        ]) }} as properties,
        occurred_at,
        {{ null_string }} as user_id,
        {{ null_string }} as crm_contact_id,
        email,
        phone,
        {{ null_string }} as anonymous_id
    from engagement
),

consent_touchpoints as (
    select
        'consent:' || consent_id as event_id,
        consent_id as source_record_id,
        'consent' as source_name,
        'consent_changed' as event_type,
        purpose as event_name,
        case purpose when 'email_marketing' then 'email' when 'sms_marketing' then 'sms' else 'ads' end as channel,
        {{ waymark.json_object_text([
            ('purpose', 'purpose'), ('status', 'status'), ('source', 'consent_source'),
            ('identifier_type', 'identifier_type'),
        ]) }} as properties,
        recorded_at as occurred_at,
        case when identifier_type = 'user_id' then identifier_value end as user_id,
        {{ null_string }} as crm_contact_id,
        case when identifier_type = 'email' then identifier_value end as email,
        case when identifier_type = 'phone' then identifier_value end as phone,
        {{ null_string }} as anonymous_id
    from consent_records
),

ad_click_touchpoints as (
    select
        'ad_click:' || click_id as event_id,
        click_id as source_record_id,
        'ads' as source_name,
        'ad_click' as event_type,
        campaign_name as event_name,
        'ads' as channel,
        {{ waymark.json_object_text([
            ('platform', 'platform'), ('campaign_id', 'campaign_id'),
            ('utm_source', 'utm_source'), ('utm_medium', 'utm_medium'),
            ('utm_campaign', 'utm_campaign'), ('landing_url', 'landing_url'),
        ]) }} as properties,
        clicked_at as occurred_at,
        {{ null_string }} as user_id,
        {{ null_string }} as crm_contact_id,
        {{ null_string }} as email,
        {{ null_string }} as phone,
        landing_anonymous_id as anonymous_id
    from ad_clicks
),

crm_touchpoints as (
    select
        'contact_created:' || crm_contact_id as event_id,
        crm_contact_id as source_record_id,
        'crm' as source_name,
        'contact_created' as event_type,
        company as event_name,
        'crm' as channel,
        {{ waymark.json_object_text([('company', 'company'), ('owner', 'owner')]) }} as properties,
        created_at as occurred_at,
        {{ null_string }} as user_id,
        crm_contact_id,
        email,
        phone,
        {{ null_string }} as anonymous_id
    from crm_contacts
),

unioned as (
    select * from segment_touchpoints
    union all
    select *, {{ null_string }} as _source_file, {{ null_string }} as _source_file_version from order_touchpoints
    union all
    select *, {{ null_string }} as _source_file, {{ null_string }} as _source_file_version from ticket_touchpoints
    union all
    select *, {{ null_string }} as _source_file, {{ null_string }} as _source_file_version from call_touchpoints
    union all
    select *, {{ null_string }} as _source_file, {{ null_string }} as _source_file_version from engagement_touchpoints
    union all
    select *, {{ null_string }} as _source_file, {{ null_string }} as _source_file_version from consent_touchpoints
    union all
    select *, {{ null_string }} as _source_file, {{ null_string }} as _source_file_version from ad_click_touchpoints
    union all
    select *, {{ null_string }} as _source_file, {{ null_string }} as _source_file_version from crm_touchpoints
),

as_of_window as (
    select *
    from unioned
    where occurred_at <= {{ waymark.as_of() }}
)

select * from as_of_window
