{#- Connected components of the unrestricted identity graph: one row per node with the smallest
    node key reachable from it. Plain SQL joins and aggregates, so it runs on any engine.

    - Propagation runs on integer ids numbered in node-key order (so the smallest id is the
      smallest key) and only over nodes that have an edge: joining and comparing integers is
      several times cheaper than text keys, and isolated nodes (most anonymous visitors) are
      their own component.
    - One round over the whole graph: every node takes the smallest id among itself and its
      neighbours, then the label of that label (pointer jumping). Identity graphs are mostly
      small stars, so this settles almost every node at once.
    - The rest is solved on the contracted graph, whose nodes are the labels: an edge whose ends
      got different labels links their labels, and a label whose own node got another label
      links to it (which keeps every label class connected to its label). On the demo and on
      generated data of 100,000 people that graph has about 5% of the edges, so the
      var('identity_propagation_rounds') rounds of propagation with pointer jumping that follow
      cost little; `assert_identity_components_converged` proves they were enough. -#}
{%- set rounds = var('identity_propagation_rounds') -%}
{%- set mat = waymark.materialized_cte() -%}
with nodes as (
    select node_key from {{ ref('int_identity__nodes') }}
),

edges as (
    select node_key_a, node_key_b from {{ ref('int_identity__edges') }}
),

connected_nodes as {{ mat }} (
    select node_key_a as node_key from edges
    union
    select node_key_b as node_key from edges
),

node_ids as {{ mat }} (
    select node_key, row_number() over (order by node_key) as node_id
    from connected_nodes
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

first_round as {{ mat }} (
    select node_id, least(node_id, min(neighbor_id)) as label
    from adjacency
    group by node_id
),

first_labels as {{ mat }} (
    select first_round.node_id, least(first_round.label, jumped.label) as label
    from first_round
    inner join first_round as jumped on first_round.label = jumped.node_id
),

contracted_edges as {{ mat }} (
    select distinct
        least(labels_a.label, labels_b.label) as node_id_a,
        greatest(labels_a.label, labels_b.label) as node_id_b
    from edge_ids
    inner join first_labels as labels_a on edge_ids.node_id_a = labels_a.node_id
    inner join first_labels as labels_b on edge_ids.node_id_b = labels_b.node_id
    where labels_a.label <> labels_b.label
    union
    select label as node_id_a, node_id as node_id_b
    from first_labels
    where label <> node_id
        and node_id in (select label from first_labels)
),

contracted_adjacency as {{ mat }} (
    select node_id_a as node_id, node_id_b as neighbor_id from contracted_edges
    union all
    select node_id_b as node_id, node_id_a as neighbor_id from contracted_edges
),

contracted_labels_0 as {{ mat }} (
    select node_id, least(node_id, min(neighbor_id)) as label
    from contracted_adjacency
    group by node_id
),
{%- for round in range(1, rounds + 1) %}

contracted_propagated_{{ round }} as {{ mat }} (
    select
        labels.node_id,
        least(labels.label, min(neighbors.label)) as label
    from contracted_labels_{{ round - 1 }} as labels
    inner join contracted_adjacency on labels.node_id = contracted_adjacency.node_id
    inner join contracted_labels_{{ round - 1 }} as neighbors
        on contracted_adjacency.neighbor_id = neighbors.node_id
    group by labels.node_id, labels.label
),

contracted_labels_{{ round }} as {{ mat }} (
    select
        propagated.node_id,
        least(propagated.label, coalesce(jumped.label, propagated.label)) as label
    from contracted_propagated_{{ round }} as propagated
    left join contracted_propagated_{{ round }} as jumped on propagated.label = jumped.node_id
),
{%- endfor %}

final_labels as {{ mat }} (
    select
        first_labels.node_id,
        coalesce(contracted.label, first_labels.label) as label
    from first_labels
    left join contracted_labels_{{ rounds }} as contracted
        on first_labels.label = contracted.node_id
),

connected_components as (
    select
        node_ids.node_key,
        component_ids.node_key as component_key
    from final_labels
    inner join node_ids on final_labels.node_id = node_ids.node_id
    inner join node_ids as component_ids on final_labels.label = component_ids.node_id
),

isolated_components as (
    select
        node_key,
        node_key as component_key
    from nodes
    where node_key not in (select node_key from connected_nodes)
),

components as (
    select * from connected_components
    union all
    select * from isolated_components
)

select * from components
