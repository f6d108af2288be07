{#- Why identifiers belong together: one row per accepted edge of the identity graph, naming
    the source row that first joined the two identifiers, the rule, when, and how often the
    pairing has been seen since. -#}
with edges as (
    select * from {{ ref('int_identity__edges') }}
),

nodes as (
    select * from {{ ref('int_identity__nodes') }}
),

clusters as (
    select * from {{ ref('int_identity__clusters') }}
),

customer_identifiers as (
    select * from {{ ref('customer_identifiers') }}
),

accepted as (
    select edges.*
    from edges
    inner join clusters as cluster_a on edges.node_key_a = cluster_a.node_key
    inner join clusters as cluster_b on edges.node_key_b = cluster_b.node_key
    where cluster_a.cluster_key = cluster_b.cluster_key
),

merge_log as (
    select
        {{ waymark.short_hash("accepted.node_key_a || '~' || accepted.node_key_b") }} as merge_id,
        customer_identifiers.customer_id,
        node_a.identifier_type as identifier_type_a,
        node_a.identifier_value as identifier_value_a,
        node_b.identifier_type as identifier_type_b,
        node_b.identifier_value as identifier_value_b,
        accepted.first_rule as rule,
        accepted.first_source_name as source_name,
        accepted.first_source_record_id as source_record_id,
        accepted.evidence_count,
        accepted.rule_count,
        accepted.first_seen_at as merged_at,
        accepted.last_seen_at
    from accepted
    inner join nodes as node_a on accepted.node_key_a = node_a.node_key
    inner join nodes as node_b on accepted.node_key_b = node_b.node_key
    inner join customer_identifiers
        on node_a.identifier_type = customer_identifiers.identifier_type
        and node_a.identifier_value = customer_identifiers.identifier_value
)

select * from merge_log
