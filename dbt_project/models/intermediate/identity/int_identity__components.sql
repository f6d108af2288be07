{#- Connected components of the unrestricted identity graph: one row per node with the smallest
    node key reachable from it. Label propagation with pointer jumping, unrolled for
    var('identity_propagation_rounds') rounds; `assert_identity_components_converged` proves
    the rounds were enough. Plain SQL joins and aggregates, so it runs on any engine.

    Propagation runs on integer ids numbered in node-key order (so the smallest id is the
    smallest key) and only over nodes that have an edge: joining and comparing integers is
    several times cheaper than text keys, and isolated nodes (most anonymous visitors) are
    their own component. -#}
{%- set rounds = var('identity_propagation_rounds') -%}
{%- set mat = waymark.materialized_cte() -%}
with nodes as (
    select node_key from {{ ref('int_identity__nodes') }}
),

edges as (
    select node_key_a, node_key_b from {{ ref('int_identity__edges') }}
),

node_ids as {{ mat }} (
    select node_key, row_number() over (order by node_key) as node_id
    from nodes
),

edge_ids as {{ mat }} (
    select ids_a.node_id as node_id_a, ids_b.node_id as node_id_b
    from edges
    inner join node_ids as ids_a on edges.node_key_a = ids_a.node_key
    inner join node_ids as ids_b on edges.node_key_b = ids_b.node_key
),

adjacency as {{ mat }} (
    select node_id_a as node_id, node_id_b as neighbor_id from edge_ids
    union all
    select node_id_b as node_id, node_id_a as neighbor_id from edge_ids
),

labels_0 as {{ mat }} (
    select distinct node_id, node_id as label from adjacency
),
{%- for round in range(1, rounds + 1) %}

propagated_{{ round }} as {{ mat }} (
    select
        labels.node_id,
        least(labels.label, min(neighbors.label)) as label
    from labels_{{ round - 1 }} as labels
    inner join adjacency on labels.node_id = adjacency.node_id
    inner join labels_{{ round - 1 }} as neighbors on adjacency.neighbor_id = neighbors.node_id
    group by labels.node_id, labels.label
),

labels_{{ round }} as {{ mat }} (
    select
        propagated.node_id,
        least(propagated.label, coalesce(jumped.label, propagated.label)) as label
    from propagated_{{ round }} as propagated
    left join propagated_{{ round }} as jumped on propagated.label = jumped.node_id
),
{%- endfor %}

components as (
    select
        node_ids.node_key,
        coalesce(component_ids.node_key, node_ids.node_key) as component_key
    from node_ids
    left join labels_{{ rounds }} as labels on node_ids.node_id = labels.node_id
    left join node_ids as component_ids on labels.label = component_ids.node_id
)

select * from components
