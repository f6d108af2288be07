{#- The current state of each order: one row per order (latest `updated_at` wins). -#}
with base as (
    select * from {{ ref('base_shop__orders') }}
),

latest as (
    select
        order_id,
        account_id,
        email,
        phone,
        status,
        currency,
        subtotal,
        discount,
        shipping,
        tax,
        total,
        shipping_country,
        created_at,
        updated_at,
        delivered_at,
        _source_file
    from base
    where _quarantine_reason is null
    qualify row_number() over (partition by order_id order by updated_at desc, _source_file desc) = 1
)

select * from latest
