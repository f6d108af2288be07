{#- Identity helpers driven by var('identity_rules'). -#}

{% macro identity_types() -%}
    {%- set types = [] -%}
    {%- for rule in var('identity_rules') -%}{%- do types.append(rule.identifier_type) -%}{%- endfor -%}
    {{ return(types) }}
{%- endmacro %}

{#- Priority (1 = strongest) of an identifier type column, as SQL. -#}
{% macro identity_priority(type_column) -%}
    case {{ type_column }}
    {%- for rule in var('identity_rules') %}
        when '{{ rule.identifier_type }}' then {{ loop.index }}
    {%- endfor %}
    end
{%- endmacro %}

{#- The node key: sorts identifiers by first seen, then priority, then type and value, so the
    minimum key of a cluster is its anchor. -#}
{% macro identity_node_key(first_seen_column, type_column, value_column) -%}
    {{ waymark.sortable_timestamp(first_seen_column) }} || '|' || cast({{ waymark.identity_priority(type_column) }} as {{ dbt.type_string() }})
        || '|' || {{ type_column }} || '|' || {{ value_column }}
{%- endmacro %}

{#- The stable customer id of an anchor identifier. -#}
{% macro customer_id_from_anchor(type_column, value_column) -%}
    'cus_' || {{ waymark.short_hash(type_column ~ " || ':' || " ~ value_column) }}
{%- endmacro %}
