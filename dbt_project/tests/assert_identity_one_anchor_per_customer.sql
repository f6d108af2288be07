{#- Every customer has exactly one anchor, and its id is derived from that anchor. -#}
select customer_id, count(*) as anchors
from {{ ref('customer_identifiers') }}
where is_anchor
group by customer_id
having count(*) <> 1
   or max({{ waymark.customer_id_from_anchor('identifier_type', 'identifier_value') }}) <> customer_id
