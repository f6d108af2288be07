{#- Every known identifier and the customer it belongs to: one row per (identifier_type,
    identifier_value). The customer id is derived from the cluster's anchor, its earliest-seen
    identifier (ties: higher priority), so rebuilding unchanged input gives the same ids and new
    data changes an id only when two customers merge (the earlier anchor survives). -#}
with nodes as (
    select * from {{ ref('int_identity__nodes') }}
),

clusters as (
    select * from {{ ref('int_identity__clusters') }}
),

anchors as (
    select cluster_key, min(node_key) as anchor_node_key
    from clusters
    group by cluster_key
),

customer_ids as (
    select
        anchors.cluster_key,
        anchors.anchor_node_key,
        {{ waymark.customer_id_from_anchor('nodes.identifier_type', 'nodes.identifier_value') }} as customer_id
    from anchors
    inner join nodes on anchors.anchor_node_key = nodes.node_key
),

customer_identifiers as (
    select
        nodes.identifier_type,
        nodes.identifier_value,
        customer_ids.customer_id,
        nodes.priority,
        nodes.evidence_count,
        nodes.source_count,
        nodes.node_key = customer_ids.anchor_node_key as is_anchor,
        nodes.first_seen_at,
        nodes.last_seen_at
    from nodes
    inner join clusters on nodes.node_key = clusters.node_key
    inner join customer_ids on clusters.cluster_key = customer_ids.cluster_key
)

select * from customer_identifiers
