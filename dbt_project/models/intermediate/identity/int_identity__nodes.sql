{#- The identity graph's nodes: one row per (identifier_type, identifier_value), with when and
    where it was first and last seen and its merge rule (priority, limit). -#}
{%- set types = waymark.identity_types() -%}
with identifier_sets as (
    select * from {{ ref('int_identity__identifier_sets') }}
),

sightings as (
    {%- for identifier_type in types %}
    select
        '{{ identifier_type }}' as identifier_type,
        {{ identifier_type }} as identifier_value,
        source_name,
        first_seen_at,
        last_seen_at,
        evidence_count
    from identifier_sets
    where {{ identifier_type }} is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

nodes as (
    select
        identifier_type,
        identifier_value,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        cast(sum(evidence_count) as bigint) as evidence_count,
        cast(count(distinct source_name) as bigint) as source_count
    from sightings
    group by identifier_type, identifier_value
),

ranked as (
    select
        {{ waymark.identity_node_key('first_seen_at', 'identifier_type', 'identifier_value') }} as node_key,
        identifier_type,
        identifier_value,
        cast({{ waymark.identity_priority('identifier_type') }} as integer) as priority,
        case identifier_type
        {%- for rule in var('identity_rules') %}
            when '{{ rule.identifier_type }}' then {{ rule.max_per_customer }}
        {%- endfor %}
        end as max_per_customer,
        evidence_count,
        source_count,
        first_seen_at,
        last_seen_at
    from nodes
)

select * from ranked
