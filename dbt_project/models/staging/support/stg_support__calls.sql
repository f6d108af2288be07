{#- Contact-centre calls: one row per call. -#}
with base as (
    select * from {{ ref('base_support__calls') }}
),

usable as (
    select
        call_id,
        ticket_id,
        phone,
        direction,
        reason,
        handle_time_seconds,
        is_first_contact_resolution,
        sentiment,
        started_at,
        _source_file
    from base
    where _quarantine_reason is null
    qualify row_number() over (partition by call_id order by _source_file desc) = 1
)

select * from usable
