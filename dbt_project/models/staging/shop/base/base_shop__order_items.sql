{{ config(
    materialized=waymark.landed_file_materialization(),
    incremental_strategy="append",
    on_schema_change="fail",
    pre_hook="{{ waymark.forget_stale_files('shop', 'order_items') }}",
    post_hook="{{ waymark.keep_rejected_lines('shop', 'order_items') }}",
) }}
{#- Every order line as landed and typed, with `_quarantine_reason`. -#}
with source as (
    {{ waymark.read_landed_csv('shop', 'order_items') }}
),

typed as (
    select
        nullif(trim(order_id), '') as order_id,
        try_cast(nullif(trim(line_number), '') as integer) as line_number,
        nullif(trim(product_id), '') as product_id,
        nullif(trim(product_name), '') as product_name,
        nullif(trim(category), '') as category,
        try_cast(nullif(trim(quantity), '') as integer) as quantity,
        try_cast(nullif(trim(unit_price), '') as decimal(18, 2)) as unit_price,
        cast(null as boolean) as _timestamp_assumed_utc,
        {{ waymark.raw_row_json(waymark.source_columns('shop', 'order_items')) }} as _raw_row,
        _source_file,
        _source_file_version
    from source
),

checked as (
    select
        order_id,
        line_number,
        product_id,
        product_name,
        category,
        quantity,
        unit_price,
        _timestamp_assumed_utc,
        cast(null as bigint) as _source_line,
        _source_file,
        _source_file_version,
        case
            when order_id is null then 'missing_key: order_id'
            when line_number is null then 'missing_key: line_number'
            when quantity is null or unit_price is null then 'unparseable_amount: quantity or unit_price'
        end as _quarantine_reason,
        cast(null as {{ dbt.type_string() }}) as _invalid_fields,
        {{ waymark.raw_row_of_problems() }}
    from typed
)

select * from checked
