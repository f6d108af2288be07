{#- Every value a source has stated for a customer's profile field, up to as_of: one row per
    (customer_id, field_name, source_name, field_value) with when it was last stated. Emails and
    phones count only when they are identifiers of that same customer. Survivorship picks from
    these in `int_customer_golden_records`. -#}
{%- set null_string = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}

with crm_contact_versions as (
    select * from {{ ref('stg_crm__contact_versions') }}
),

segment_events as (
    select * from {{ ref('stg_events__segment') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

tickets as (
    select * from {{ ref('stg_support__tickets') }}
),

customer_identifiers as (
    select * from {{ ref('customer_identifiers') }}
),

{#- One row per distinct statement; Segment events collapse to their distinct identity and
    trait combinations first, so this stays small at any event volume. #}
statements as (
    select
        'crm' as source_name,
        {{ null_string }} as user_id,
        crm_contact_id,
        email,
        phone,
        {{ null_string }} as anonymous_id,
        first_name,
        last_name,
        country,
        {{ null_string }} as timezone,
        max(updated_at) as observed_at
    from crm_contact_versions
    where updated_at <= {{ waymark.as_of() }}
    group by crm_contact_id, email, phone, first_name, last_name, country

    union all

    select
        'events' as source_name,
        user_id,
        {{ null_string }} as crm_contact_id,
        email,
        phone,
        coalesce(anonymous_id, previous_id) as anonymous_id,
        first_name,
        last_name,
        country,
        timezone,
        max(occurred_at) as observed_at
    from segment_events
    where occurred_at <= {{ waymark.as_of() }}
    group by user_id, email, phone, coalesce(anonymous_id, previous_id), first_name, last_name, country, timezone

    union all

    select
        'shop' as source_name,
        account_id as user_id,
        {{ null_string }} as crm_contact_id,
        email,
        phone,
        {{ null_string }} as anonymous_id,
        {{ null_string }} as first_name,
        {{ null_string }} as last_name,
        shipping_country as country,
        {{ null_string }} as timezone,
        max(created_at) as observed_at
    from orders
    where created_at <= {{ waymark.as_of() }}
    group by account_id, email, phone, shipping_country

    union all

    select
        'support' as source_name,
        {{ null_string }} as user_id,
        {{ null_string }} as crm_contact_id,
        email,
        phone,
        {{ null_string }} as anonymous_id,
        {{ null_string }} as first_name,
        {{ null_string }} as last_name,
        {{ null_string }} as country,
        {{ null_string }} as timezone,
        max(created_at) as observed_at
    from tickets
    where created_at <= {{ waymark.as_of() }}
    group by email, phone
),

attributed as (
    {{ waymark.attribute_to_customer('statements') }}
),

field_values as (
    {%- for field in waymark.golden_record_fields() %}
    select
        customer_id,
        '{{ field }}' as field_name,
        source_name,
        {{ field }} as field_value,
        observed_at
    from attributed
    where customer_id is not null
      and {{ field }} is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

own_identifiers_only as (
    select field_values.*
    from field_values
    left join customer_identifiers
        on field_values.field_name = customer_identifiers.identifier_type
        and field_values.field_value = customer_identifiers.identifier_value
    where field_values.field_name not in ('email', 'phone')
       or customer_identifiers.customer_id = field_values.customer_id
),

candidates as (
    select
        customer_id,
        field_name,
        source_name,
        field_value,
        {{ waymark.golden_record_source_priority('field_name', 'source_name') }} as source_priority,
        max(observed_at) as observed_at
    from own_identifiers_only
    group by customer_id, field_name, source_name, field_value
)

select * from candidates
