{#- Every touchpoint up to as_of is either on a customer's timeline or counted as unattributed. -#}
with counts as (
    select
        (select count(*) from {{ ref('int_customer_events_unioned') }}) as touchpoints,
        (select count(*) from {{ ref('customer_events') }}) as attributed,
        (select count(*) from {{ ref('int_customer_events_unattributed') }}) as unattributed
)

select *
from counts
where touchpoints <> attributed + unattributed
