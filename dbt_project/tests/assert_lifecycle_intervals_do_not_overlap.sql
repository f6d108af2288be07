{#- Each customer's lifecycle intervals tile time without gaps or overlaps: every interval ends
    exactly where the next begins, only the last is open, and no interval is empty. -#}
with intervals as (
    select
        customer_id,
        stage,
        valid_from,
        valid_to,
        lead(valid_from) over (partition by customer_id order by valid_from) as next_valid_from
    from {{ ref('lifecycle_stage_history') }}
)

select *
from intervals
where (next_valid_from is null and valid_to is not null)
   or (next_valid_from is not null and (valid_to is null or valid_to <> next_valid_from))
   or valid_to <= valid_from
