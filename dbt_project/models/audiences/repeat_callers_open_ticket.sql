{#- Customers with at least audience_rules.repeat_caller_min_calls calls in the last
    audience_rules.repeat_caller_window_days days and an open ticket: one row per customer,
    qualified at the call that reached the threshold within the window (or when the earliest open
    ticket was opened, if later). -#}
{%- set rules = var('audience_rules') -%}

with customer_events as (
    select * from {{ ref('customer_events') }}
),

tickets as (
    select * from {{ ref('int_customer_tickets') }}
),

recent_calls as (
    select
        customer_id,
        occurred_at,
        row_number() over (partition by customer_id order by occurred_at, event_id) as call_number
    from customer_events
    where event_type = 'call'
      and occurred_at > {{ dbt.dateadd('day', -1 * rules.repeat_caller_window_days, waymark.as_of()) }}
      and occurred_at <= {{ waymark.as_of() }}
),

call_summary as (
    select
        customer_id,
        count(*) as calls_in_window,
        max(case when call_number = {{ rules.repeat_caller_min_calls }} then occurred_at end) as threshold_call_at,
        max(occurred_at) as last_call_at
    from recent_calls
    group by customer_id
),

open_tickets as (
    select
        customer_id,
        count(*) as open_tickets,
        min(created_at) as first_open_ticket_at
    from tickets
    where is_open
    group by customer_id
),

repeat_callers as (
    select
        call_summary.customer_id,
        greatest(call_summary.threshold_call_at, open_tickets.first_open_ticket_at) as qualified_at,
        call_summary.calls_in_window,
        open_tickets.open_tickets,
        call_summary.last_call_at
    from call_summary
    inner join open_tickets on call_summary.customer_id = open_tickets.customer_id
    where call_summary.calls_in_window >= {{ rules.repeat_caller_min_calls }}
)

select * from repeat_callers
