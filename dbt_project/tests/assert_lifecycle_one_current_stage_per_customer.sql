{#- Every customer has exactly one current lifecycle interval, starting no later than as_of. -#}
with current_intervals as (
    select customer_id, count(*) as current_intervals, max(valid_from) as valid_from
    from {{ ref('lifecycle_stage_history') }}
    where valid_to is null
    group by customer_id
)

select customers.customer_id, current_intervals.current_intervals
from {{ ref('customers') }} as customers
left join current_intervals on customers.customer_id = current_intervals.customer_id
where current_intervals.current_intervals is null
   or current_intervals.current_intervals <> 1
   or current_intervals.valid_from > {{ waymark.as_of() }}
