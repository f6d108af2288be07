{#- Components cut to respect var('identity_rules'): one row per node with its final cluster.
    Rules are applied in priority order. Where a cluster holds more identifiers of a type than
    allowed, each of those identifiers seeds a sub-cluster; the other nodes join the nearest seed
    (growing outwards one edge per round, ties to the earliest seed), the earliest
    `max_per_customer` seeds stay together and every other seed leaves with its territory. The
    edges cut on the way are what `identity_violations` reports. -#}
{%- set rounds = var('identity_split_rounds') -%}
{%- set mat = waymark.materialized_cte() -%}
with nodes as (
    select node_key, identifier_type from {{ ref('int_identity__nodes') }}
),

components as (
    select node_key, component_key from {{ ref('int_identity__components') }}
),

edges as (
    select node_key_a, node_key_b from {{ ref('int_identity__edges') }}
),

adjacency as {{ mat }} (
    select node_key_a as node_key, node_key_b as neighbor_key from edges
    union all
    select node_key_b as node_key, node_key_a as neighbor_key from edges
),

groups_0 as {{ mat }} (
    select nodes.node_key, nodes.identifier_type, components.component_key as group_key
    from nodes
    inner join components on nodes.node_key = components.node_key
),
{%- for rule in var('identity_rules') %}
{%- set stage = loop.index %}

over_limit_{{ stage }} as (
    select group_key
    from groups_{{ stage - 1 }}
    where identifier_type = '{{ rule.identifier_type }}'
    group by group_key
    having count(*) > {{ rule.max_per_customer }}
),

members_{{ stage }} as {{ mat }} (
    select groups.node_key, groups.identifier_type, groups.group_key
    from groups_{{ stage - 1 }} as groups
    inner join over_limit_{{ stage }} as over_limit on groups.group_key = over_limit.group_key
),

links_{{ stage }} as {{ mat }} (
    select adjacency.node_key, adjacency.neighbor_key
    from adjacency
    inner join members_{{ stage }} as here on adjacency.node_key = here.node_key
    inner join members_{{ stage }} as there on adjacency.neighbor_key = there.node_key
    where here.group_key = there.group_key
),

seeds_{{ stage }}_0 as {{ mat }} (
    select
        node_key,
        group_key,
        case when identifier_type = '{{ rule.identifier_type }}' then node_key end as seed_key
    from members_{{ stage }}
),
{%- for round in range(1, rounds + 1) %}

seeds_{{ stage }}_{{ round }} as {{ mat }} (
    select
        members.node_key,
        members.group_key,
        coalesce(members.seed_key, min(neighbors.seed_key)) as seed_key
    from seeds_{{ stage }}_{{ round - 1 }} as members
    left join links_{{ stage }} as links
        on members.seed_key is null and members.node_key = links.node_key
    left join seeds_{{ stage }}_{{ round - 1 }} as neighbors on links.neighbor_key = neighbors.node_key
    group by members.node_key, members.group_key, members.seed_key
),
{%- endfor %}

kept_seeds_{{ stage }} as (
    select
        node_key as seed_key,
        row_number() over (partition by group_key order by node_key) <= {{ rule.max_per_customer }} as is_kept
    from members_{{ stage }}
    where identifier_type = '{{ rule.identifier_type }}'
),

split_{{ stage }} as (
    select
        seeds.node_key,
        case
            when kept.is_kept then seeds.group_key
            when seeds.seed_key is null then seeds.group_key || '>unreached'
            else seeds.group_key || '>' || seeds.seed_key
        end as group_key
    from seeds_{{ stage }}_{{ rounds }} as seeds
    left join kept_seeds_{{ stage }} as kept on seeds.seed_key = kept.seed_key
),

groups_{{ stage }} as {{ mat }} (
    select
        groups.node_key,
        groups.identifier_type,
        coalesce(split.group_key, groups.group_key) as group_key
    from groups_{{ stage - 1 }} as groups
    left join split_{{ stage }} as split on groups.node_key = split.node_key
),
{%- endfor %}

clusters as (
    select
        groups_0.node_key,
        groups_0.group_key as component_key,
        {%- for rule in var('identity_rules') %}
        groups_{{ loop.index }}.group_key as cluster_key_after_{{ rule.identifier_type }},
        {%- endfor %}
        groups_{{ var('identity_rules') | length }}.group_key as cluster_key
    from groups_0
    {%- for rule in var('identity_rules') %}
    inner join groups_{{ loop.index }} on groups_0.node_key = groups_{{ loop.index }}.node_key
    {%- endfor %}
)

select * from clusters
