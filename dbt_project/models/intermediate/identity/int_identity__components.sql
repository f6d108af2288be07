{#- Connected components of the unrestricted identity graph: one row per node with the smallest
    node key reachable from it. Label propagation with pointer jumping, unrolled for
    var('identity_propagation_rounds') rounds; `assert_identity_components_converged` proves
    the rounds were enough. Plain SQL joins and aggregates, so it runs on any engine. -#}
{%- set rounds = var('identity_propagation_rounds') -%}
{%- set mat = waymark.materialized_cte() -%}
with nodes as (
    select node_key from {{ ref('int_identity__nodes') }}
),

edges as (
    select node_key_a, node_key_b from {{ ref('int_identity__edges') }}
),

adjacency as {{ mat }} (
    select node_key_a as node_key, node_key_b as neighbor_key from edges
    union all
    select node_key_b as node_key, node_key_a as neighbor_key from edges
),

labels_0 as {{ mat }} (
    select node_key, node_key as label from nodes
),
{%- for round in range(1, rounds + 1) %}

propagated_{{ round }} as {{ mat }} (
    select
        labels.node_key,
        least(labels.label, coalesce(min(neighbors.label), labels.label)) as label
    from labels_{{ round - 1 }} as labels
    left join adjacency on labels.node_key = adjacency.node_key
    left join labels_{{ round - 1 }} as neighbors on adjacency.neighbor_key = neighbors.node_key
    group by labels.node_key, labels.label
),

labels_{{ round }} as {{ mat }} (
    select
        propagated.node_key,
        least(propagated.label, coalesce(jumped.label, propagated.label)) as label
    from propagated_{{ round }} as propagated
    left join propagated_{{ round }} as jumped on propagated.label = jumped.node_key
),
{%- endfor %}

components as (
    select node_key, label as component_key from labels_{{ rounds }}
)

select * from components
