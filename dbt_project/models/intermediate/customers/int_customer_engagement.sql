{#- Recent engagement per channel as of as_of: one row per customer with a messaging event in
    the last 90 days or Segment activity in the last 30 days. A web session is a run of Segment
    events (web or app) with no gap longer than var('web_session_gap_minutes'). -#}
{%- set messaging_event_types = ['email_delivered', 'email_opened', 'email_clicked', 'sms_delivered', 'sms_clicked'] -%}

with customer_events as (
    select * from {{ ref('customer_events') }}
),

messaging as (
    select
        customer_id,
        {%- for event_type in messaging_event_types %}
        count(case when event_type = '{{ event_type }}' then 1 end) as {{ event_type }}_90d{{ ',' if not loop.last }}
        {%- endfor %}
    from customer_events
    where source_name = 'messaging'
      and occurred_at > {{ dbt.dateadd('day', -90, waymark.as_of()) }}
    group by customer_id
),

web_events as (
    select
        customer_id,
        occurred_at,
        lag(occurred_at) over (partition by customer_id order by occurred_at, event_id) as previous_occurred_at
    from customer_events
    where source_name = 'events'
      and occurred_at > {{ dbt.dateadd('day', -30, waymark.as_of()) }}
),

web as (
    select
        customer_id,
        count(*) as web_events_30d,
        count(
            case
                when previous_occurred_at is null then 1
                when occurred_at > {{ dbt.dateadd('minute', var('web_session_gap_minutes'), 'previous_occurred_at') }} then 1
            end
        ) as web_sessions_30d
    from web_events
    group by customer_id
),

engagement as (
    select
        coalesce(messaging.customer_id, web.customer_id) as customer_id,
        {%- for event_type in messaging_event_types %}
        coalesce(messaging.{{ event_type }}_90d, 0) as {{ event_type }}_90d,
        {%- endfor %}
        coalesce(web.web_sessions_30d, 0) as web_sessions_30d,
        coalesce(web.web_events_30d, 0) as web_events_30d
    from messaging
    full outer join web on messaging.customer_id = web.customer_id
)

select * from engagement
