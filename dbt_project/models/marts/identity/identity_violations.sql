{#- Edges the merge rules refused: one row per rejected pairing, with the rule it would have
    broken, both customers it would have joined, and the source row that proposed it. -#}
with rejected as (
    select * from {{ ref('int_identity__rejected_edges') }}
),

nodes as (
    select * from {{ ref('int_identity__nodes') }}
),

customer_identifiers as (
    select * from {{ ref('customer_identifiers') }}
),

violations as (
    select
        {{ waymark.short_hash("rejected.node_key_a || '~' || rejected.node_key_b") }} as violation_id,
        node_a.identifier_type as identifier_type_a,
        node_a.identifier_value as identifier_value_a,
        customer_a.customer_id as customer_id_a,
        node_b.identifier_type as identifier_type_b,
        node_b.identifier_value as identifier_value_b,
        customer_b.customer_id as customer_id_b,
        rejected.limited_identifier_type,
        case rejected.limited_identifier_type
            {%- for rule in var('identity_rules') %}
            when '{{ rule.identifier_type }}' then {{ rule.max_per_customer }}
            {%- endfor %}
        end as max_per_customer,
        'limit_exceeded: a customer may hold at most '
            || cast(case rejected.limited_identifier_type
                {%- for rule in var('identity_rules') %}
                when '{{ rule.identifier_type }}' then {{ rule.max_per_customer }}
                {%- endfor %}
            end as {{ dbt.type_string() }})
            || ' ' || rejected.limited_identifier_type || ' identifier(s)' as reason,
        rejected.first_rule as rule,
        rejected.first_source_name as source_name,
        rejected.first_source_record_id as source_record_id,
        rejected.evidence_count,
        rejected.first_seen_at
    from rejected
    inner join nodes as node_a on rejected.node_key_a = node_a.node_key
    inner join nodes as node_b on rejected.node_key_b = node_b.node_key
    inner join customer_identifiers as customer_a
        on node_a.identifier_type = customer_a.identifier_type
        and node_a.identifier_value = customer_a.identifier_value
    inner join customer_identifiers as customer_b
        on node_b.identifier_type = customer_b.identifier_type
        and node_b.identifier_value = customer_b.identifier_value
)

select * from violations
