{#- Every currency an attributed order was placed in has a rate in the `currency_rates` seed;
    otherwise its amount would silently drop out of revenue. -#}
select currency, count(*) as orders
from {{ ref('int_customer_orders') }}
where total_usd is null
group by currency
