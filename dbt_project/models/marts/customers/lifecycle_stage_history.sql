{#- Lifecycle stage intervals as of as_of: one row per customer per stage interval, contiguous
    from first seen; the current interval has valid_to null. Rules: macros/lifecycle.sql. -#}
{%- set as_of = waymark.as_of() -%}

with customer_base as (
    select * from {{ ref('int_customer_base') }}
),

orders as (
    select * from {{ ref('int_customer_orders') }}
),

revenue_orders as (
    select
        customer_id,
        order_id,
        placed_at,
        row_number() over (partition by customer_id order by placed_at, order_id) as order_number,
        lag(placed_at) over (partition by customer_id order by placed_at, order_id) as previous_placed_at,
        lead(placed_at) over (partition by customer_id order by placed_at, order_id) as next_placed_at
    from orders
    where is_revenue_order
      and placed_at <= {{ as_of }}
),

first_orders as (
    select customer_id, min(placed_at) as first_order_at
    from revenue_orders
    group by customer_id
),

pre_purchase_intervals as (
    select
        customer_base.customer_id,
        'anonymous_visitor' as stage,
        customer_base.first_seen_at as valid_from,
        least(customer_base.known_at, first_orders.first_order_at) as valid_to
    from customer_base
    left join first_orders on customer_base.customer_id = first_orders.customer_id

    union all

    select
        customer_base.customer_id,
        'lead' as stage,
        customer_base.known_at as valid_from,
        first_orders.first_order_at as valid_to
    from customer_base
    left join first_orders on customer_base.customer_id = first_orders.customer_id
    where customer_base.known_at is not null
),

order_milestones as (
    select
        customer_id,
        placed_at,
        next_placed_at,
        {{ waymark.lifecycle_active_stage('order_number', 'placed_at', 'previous_placed_at') }} as active_stage,
        {{ dbt.dateadd('day', waymark.lifecycle_setting('at_risk_after_days'), 'placed_at') }} as at_risk_at,
        {{ dbt.dateadd('day', waymark.lifecycle_setting('churned_after_days'), 'placed_at') }} as churned_at
    from revenue_orders
),

post_purchase_intervals as (
    select customer_id, active_stage as stage, placed_at as valid_from, least(next_placed_at, at_risk_at) as valid_to
    from order_milestones

    union all

    select customer_id, 'at_risk' as stage, at_risk_at as valid_from, least(next_placed_at, churned_at) as valid_to
    from order_milestones

    union all

    select customer_id, 'churned' as stage, churned_at as valid_from, next_placed_at as valid_to
    from order_milestones
),

intervals as (
    select * from pre_purchase_intervals
    union all
    select * from post_purchase_intervals
),

as_of_intervals as (
    select
        customer_id,
        stage,
        valid_from,
        case when valid_to <= {{ as_of }} then valid_to end as valid_to
    from intervals
    where valid_from <= {{ as_of }}
      and (valid_to is null or valid_to > valid_from)
),

final as (
    select
        customer_id || ':' || {{ waymark.sortable_timestamp('valid_from') }} as lifecycle_interval_id,
        customer_id,
        stage,
        {{ waymark.lifecycle_stage_order('stage') }} as stage_order,
        row_number() over (partition by customer_id order by valid_from) as interval_number,
        valid_to is null as is_current,
        valid_from,
        valid_to
    from as_of_intervals
)

select * from final
