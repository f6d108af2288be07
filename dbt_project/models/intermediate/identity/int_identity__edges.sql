{#- The identity graph's edges: one row per pair of identifiers seen together on a source row,
    with the first evidence (source, record, rule, time) and how often it was seen. Edges are
    stored once, from the lower node key to the higher. -#}
{%- set types = waymark.identity_types() -%}
with identifier_sets as (
    select * from {{ ref('int_identity__identifier_sets') }}
),

nodes as (
    select * from {{ ref('int_identity__nodes') }}
),

pairs as (
    {%- set pair_selects = [] -%}
    {%- for left_type in types -%}
        {%- for right_type in types[loop.index:] -%}
            {%- set pair_sql -%}
    select
        '{{ left_type }}' as left_type,
        {{ left_type }} as left_value,
        '{{ right_type }}' as right_type,
        {{ right_type }} as right_value,
        source_name,
        rule,
        first_source_record_id,
        first_seen_at,
        last_seen_at,
        evidence_count
    from identifier_sets
    where {{ left_type }} is not null and {{ right_type }} is not null
            {%- endset -%}
            {%- do pair_selects.append(pair_sql) -%}
        {%- endfor -%}
    {%- endfor %}
    {{ pair_selects | join('\n    union all\n') }}
),

keyed as (
    select
        left_nodes.node_key as left_key,
        right_nodes.node_key as right_key,
        pairs.*
    from pairs
    inner join nodes as left_nodes
        on pairs.left_type = left_nodes.identifier_type and pairs.left_value = left_nodes.identifier_value
    inner join nodes as right_nodes
        on pairs.right_type = right_nodes.identifier_type and pairs.right_value = right_nodes.identifier_value
),

oriented as (
    select
        least(left_key, right_key) as node_key_a,
        greatest(left_key, right_key) as node_key_b,
        source_name,
        rule,
        first_source_record_id,
        first_seen_at,
        last_seen_at,
        evidence_count,
        {#- Total order over evidence, so ties on time resolve the same way on every run. -#}
        {{ waymark.sortable_timestamp('first_seen_at') }} || '|' || source_name || '|' || rule
            || '|' || first_source_record_id as evidence_order
    from keyed
),

edges as (
    select
        node_key_a,
        node_key_b,
        min_by(source_name, evidence_order) as first_source_name,
        min_by(rule, evidence_order) as first_rule,
        min_by(first_source_record_id, evidence_order) as first_source_record_id,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        cast(sum(evidence_count) as bigint) as evidence_count,
        cast(count(distinct rule) as bigint) as rule_count
    from oriented
    group by node_key_a, node_key_b
)

select * from edges
