{#- Support tickets opened up to as_of with their customer: one row per ticket. A ticket counts
    as open when its latest status is open or pending, or it was solved only after as_of. -#}
with tickets as (
    select * from {{ ref('stg_support__tickets') }}
),

customer_identifiers as (
    select * from {{ ref('customer_identifiers') }}
),

opened as (
    select
        ticket_id,
        email,
        phone,
        channel,
        reason,
        status,
        csat_score,
        sentiment,
        created_at,
        solved_at,
        updated_at
    from tickets
    where created_at <= {{ waymark.as_of() }}
),

attributed as (
    {{ waymark.attribute_to_customer('opened', identifier_types=['email', 'phone']) }}
),

final as (
    select
        ticket_id,
        customer_id,
        channel,
        reason,
        status,
        sentiment,
        csat_score,
        status in ('open', 'pending') or solved_at > {{ waymark.as_of() }} as is_open,
        created_at,
        solved_at,
        updated_at
    from attributed
    where customer_id is not null
)

select * from final
