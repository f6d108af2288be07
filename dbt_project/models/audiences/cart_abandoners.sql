{#- Customers who added to cart or started checkout in the last
    audience_rules.cart_abandon_window_hours before as_of and placed no order since: one row per
    customer, qualified when their latest cart activity happened. -#}
{%- set rules = var('audience_rules') -%}

with customer_events as (
    select * from {{ ref('customer_events') }}
),

cart_activity as (
    select
        customer_id,
        count(*) as cart_events_in_window,
        max(occurred_at) as last_cart_activity_at,
        max_by(event_name, occurred_at) as last_cart_event_name,
        max_by({{ waymark.json_str('properties', '$.cart_id') }}, occurred_at) as cart_id
    from customer_events
    where event_type = 'track'
      and event_name in ('Product Added', 'Checkout Started')
      and occurred_at > {{ dbt.dateadd('hour', -1 * rules.cart_abandon_window_hours, waymark.as_of()) }}
      and occurred_at <= {{ waymark.as_of() }}
    group by customer_id
),

latest_orders as (
    select
        customer_id,
        max(occurred_at) as last_order_at
    from customer_events
    where event_type = 'order_placed'
       or (event_type = 'track' and event_name = 'Order Completed')
    group by customer_id
),

abandoners as (
    select
        cart_activity.customer_id,
        cart_activity.last_cart_activity_at as qualified_at,
        cart_activity.last_cart_event_name,
        cart_activity.cart_id,
        cart_activity.cart_events_in_window,
        latest_orders.last_order_at
    from cart_activity
    left join latest_orders on cart_activity.customer_id = latest_orders.customer_id
    where latest_orders.last_order_at is null
       or latest_orders.last_order_at < cart_activity.last_cart_activity_at
)

select * from abandoners
