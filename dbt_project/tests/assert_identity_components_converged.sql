{#- Label propagation ran enough rounds: no edge joins two nodes with different components. -#}
select edges.node_key_a, edges.node_key_b
from {{ ref('int_identity__edges') }} as edges
inner join {{ ref('int_identity__components') }} as component_a on edges.node_key_a = component_a.node_key
inner join {{ ref('int_identity__components') }} as component_b on edges.node_key_b = component_b.node_key
where component_a.component_key <> component_b.component_key
