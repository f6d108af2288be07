{#- Orders placed up to as_of with their customer and US-dollar amount: one row per order.
    Revenue orders are those not cancelled or refunded; they alone count towards order_count,
    revenue, RFM and lifecycle, numbered per customer in time order. The status is the latest
    exported one (the source keeps no status history). -#}
{%- set null_string = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}

with orders as (
    select * from {{ ref('stg_shop__orders') }}
),

currency_rates as (
    select * from {{ ref('currency_rates') }}
),

customer_identifiers as (
    select * from {{ ref('customer_identifiers') }}
),

placed as (
    select
        order_id,
        account_id as user_id,
        email,
        phone,
        status,
        currency,
        total,
        created_at,
        delivered_at
    from orders
    where created_at <= {{ waymark.as_of() }}
),

attributed as (
    {{ waymark.attribute_to_customer('placed', identifier_types=['user_id', 'email', 'phone']) }}
),

converted as (
    select
        attributed.order_id,
        attributed.customer_id,
        attributed.attributed_by_type,
        attributed.status,
        attributed.currency,
        attributed.total,
        cast(round(attributed.total * currency_rates.usd_per_unit, 2) as decimal(18, 2)) as total_usd,
        attributed.status not in ('cancelled', 'refunded') as is_revenue_order,
        attributed.created_at as placed_at,
        attributed.delivered_at
    from attributed
    left join currency_rates on attributed.currency = currency_rates.currency_code
    where attributed.customer_id is not null
),

numbered as (
    select
        *,
        case when is_revenue_order then
            row_number() over (
                partition by customer_id, is_revenue_order order by placed_at, order_id
            )
        end as customer_order_number
    from converted
)

select * from numbered
