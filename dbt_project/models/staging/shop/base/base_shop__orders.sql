{{ config(
    materialized=waymark.landed_file_materialization(),
    incremental_strategy="append",
    on_schema_change="fail",
    pre_hook="{{ waymark.forget_stale_files('shop', 'orders') }}",
    post_hook="{{ waymark.keep_rejected_lines('shop', 'orders') }}",
) }}
{#- Every order row as landed, typed and normalised, with `_quarantine_reason` / `_invalid_fields`. -#}
{%- set checks = [
    {'name': 'account_id', 'type': "'user_id'", 'raw': 'account_id_raw', 'normalized': 'account_id_raw'},
    {'name': 'email', 'type': "'email'", 'raw': 'email_raw', 'normalized': 'email_normalized'},
    {'name': 'phone', 'type': "'phone'", 'raw': 'phone_raw', 'normalized': 'phone_normalized'},
] %}
with source as (
    {{ waymark.read_landed_csv('shop', 'orders') }}
),

typed as {{ waymark.materialized_cte() }} (
    select
        nullif(trim(order_id), '') as order_id,
        nullif(trim(account_id), '') as account_id_raw,
        nullif(trim(email), '') as email_raw,
        nullif(trim(phone), '') as phone_raw,
        {{ waymark.normalize_email('email') }} as email_normalized,
        {{ waymark.normalize_phone('phone', 'shipping_country') }} as phone_normalized,
        lower(nullif(trim(status), '')) as status,
        upper(coalesce(nullif(trim(currency), ''), 'USD')) as currency,
        try_cast(nullif(trim(subtotal), '') as decimal(18, 2)) as subtotal,
        try_cast(nullif(trim(discount), '') as decimal(18, 2)) as discount,
        try_cast(nullif(trim(shipping), '') as decimal(18, 2)) as shipping,
        try_cast(nullif(trim(tax), '') as decimal(18, 2)) as tax,
        try_cast(nullif(trim(total), '') as decimal(18, 2)) as total,
        upper(nullif(trim(shipping_country), '')) as shipping_country,
        {{ waymark.parse_utc_timestamp('created_at') }} as created_at,
        {{ waymark.parse_utc_timestamp('updated_at') }} as updated_at_parsed,
        nullif(trim(updated_at), '') is not null as updated_at_given,
        {{ waymark.parse_utc_timestamp('delivered_at') }} as delivered_at_parsed,
        nullif(trim(delivered_at), '') is not null as delivered_at_given,
        {{ waymark.lacks_utc_offset('created_at') }} as _timestamp_assumed_utc,
        {{ waymark.raw_row_json(waymark.source_columns('shop', 'orders')) }} as _raw_row,
        _source_file,
        _source_file_version
    from source
),

{{ waymark.blocklist_ctes('typed', checks) }},

checked as (
    select
        order_id,
        {{ waymark.unless_blocklisted(checks[0]) }} as account_id,
        {{ waymark.unless_blocklisted(checks[1]) }} as email,
        {{ waymark.unless_blocklisted(checks[2]) }} as phone,
        status,
        currency,
        subtotal,
        discount,
        shipping,
        tax,
        total,
        shipping_country,
        created_at,
        coalesce({{ waymark.if_plausible('updated_at_parsed') }}, created_at) as updated_at,
        {{ waymark.if_plausible('delivered_at_parsed') }} as delivered_at,
        case
            when order_id is null then 'missing_key: order_id'
            when created_at is null then 'unparseable_timestamp: created_at'
            when not {{ waymark.plausible_timestamp('created_at') }} then 'implausible_timestamp: created_at'
            when total is null then 'unparseable_amount: total'
            when account_id_raw is null and email_normalized is null then 'missing_customer_reference: account_id or email'
        end as _quarantine_reason,
        {{ waymark.nulled_fields([
            waymark.invalid_fields(checks[1:]),
            waymark.optional_timestamp_problem('updated_at'),
            waymark.optional_timestamp_problem('delivered_at'),
        ]) }} as _invalid_fields,
        {{ waymark.raw_row_of_problems() }},
        _timestamp_assumed_utc,
        cast(null as bigint) as _source_line,
        _source_file,
        _source_file_version
    from typed
    {{- waymark.blocklist_joins(checks) }}
)

select * from checked
