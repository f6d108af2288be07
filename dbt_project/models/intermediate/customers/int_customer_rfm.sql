{#- Order totals and RFM for every customer with at least one revenue order as of as_of: one row
    per customer. Scores rank customers against each other (macros/rfm.sql). -#}
with orders as (
    select * from {{ ref('int_customer_orders') }}
),

order_totals as (
    select
        customer_id,
        count(*) as order_count,
        cast(sum(total_usd) as decimal(18, 2)) as revenue,
        min(placed_at) as first_order_at,
        max(placed_at) as last_order_at
    from orders
    where is_revenue_order
    group by customer_id
),

metrics as (
    select
        customer_id,
        order_count,
        revenue,
        first_order_at,
        last_order_at,
        {{ dbt.datediff('last_order_at', waymark.as_of(), 'day') }} as recency_days,
        order_count as frequency,
        revenue as monetary
    from order_totals
),

scored as (
    select
        *,
        {{ waymark.rfm_score('recency_days', 'desc') }} as r_score,
        {{ waymark.rfm_score('frequency') }} as f_score,
        {{ waymark.rfm_score('monetary') }} as m_score
    from metrics
),

segmented as (
    select
        *,
        {{ waymark.rfm_segment('r_score', 'f_score', 'm_score') }} as rfm_segment
    from scored
)

select * from segmented
