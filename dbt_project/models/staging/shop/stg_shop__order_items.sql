{#- Order lines: one row per (order, line number); a line re-exported keeps its latest copy. -#}
with base as (
    select * from {{ ref('base_shop__order_items') }}
),

latest as (
    select
        order_id,
        line_number,
        product_id,
        product_name,
        category,
        quantity,
        unit_price,
        quantity * unit_price as line_amount,
        _source_file
    from base
    where _quarantine_reason is null
    qualify row_number() over (partition by order_id, line_number order by _source_file desc) = 1
)

select * from latest
