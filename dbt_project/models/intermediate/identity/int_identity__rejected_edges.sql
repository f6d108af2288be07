{#- The edges the merge rules refused: one row per edge whose two identifiers ended in different
    clusters, with the identifier type whose limit split them. Its own table so that
    `identity_violations` joins identifiers and customers to these few edges only: in one query
    the planner joined them to the whole graph first, five times the work. -#}
with edges as (
    select * from {{ ref('int_identity__edges') }}
),

clusters as (
    select * from {{ ref('int_identity__clusters') }}
),

spanning as (
    {#- The keys and cluster columns alone first: a narrow join over the whole graph. -#}
    select
        edges.node_key_a,
        edges.node_key_b,
        case
            {%- for rule in var('identity_rules') %}
            when cluster_a.cluster_key_after_{{ rule.identifier_type }} <> cluster_b.cluster_key_after_{{ rule.identifier_type }}
                then '{{ rule.identifier_type }}'
            {%- endfor %}
        end as limited_identifier_type
    from edges
    inner join clusters as cluster_a on edges.node_key_a = cluster_a.node_key
    inner join clusters as cluster_b on edges.node_key_b = cluster_b.node_key
    where cluster_a.cluster_key <> cluster_b.cluster_key
),

rejected as (
    select edges.*, spanning.limited_identifier_type
    from spanning
    inner join edges
        on spanning.node_key_a = edges.node_key_a
        and spanning.node_key_b = edges.node_key_b
)

select * from rejected
