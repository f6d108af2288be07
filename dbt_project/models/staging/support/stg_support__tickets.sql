{#- The current state of each support ticket: one row per ticket (latest `updated_at` wins). -#}
with base as (
    select * from {{ ref('base_support__tickets') }}
),

latest as (
    select
        ticket_id,
        channel,
        email,
        phone,
        reason,
        status,
        csat_score,
        sentiment,
        created_at,
        updated_at,
        solved_at,
        _source_file
    from base
    where _quarantine_reason is null
    qualify row_number() over (partition by ticket_id order by updated_at desc, _source_file desc) = 1
)

select * from latest
