{#- Customer attribution: the one rule that says which customer a source row belongs to.
    A row is attributed by its strongest identifier that resolves in `customer_identifiers`, in
    the priority order of var('identity_rules') (user_id > crm_contact_id > email > phone >
    anonymous_id). Rows where nothing resolves get a null customer_id, so callers can count
    them instead of losing them. -#}

{#- A select over `relation` (a CTE or relation with one column per identifier type; types a
    source lacks may be left out via `identifier_types`) adding `customer_id`,
    `attributed_by_type` and `attributed_by_value`. One left join per identifier type: a
    single hash-join pass, no correlated subqueries. -#}
{% macro attribute_to_customer(relation, identifiers='customer_identifiers', identifier_types=none) -%}
    {%- set types = identifier_types if identifier_types is not none else waymark.identity_types() -%}
    {%- set ordered = [] -%}
    {%- for identifier_type in waymark.identity_types() if identifier_type in types -%}
        {%- do ordered.append(identifier_type) -%}
    {%- endfor -%}
    select
        {{ relation }}.*,
        coalesce(
            {%- for identifier_type in ordered %}
            by_{{ identifier_type }}.customer_id{{ ',' if not loop.last }}
            {%- endfor %}
        ) as customer_id,
        case
            {%- for identifier_type in ordered %}
            when by_{{ identifier_type }}.customer_id is not null then '{{ identifier_type }}'
            {%- endfor %}
        end as attributed_by_type,
        case
            {%- for identifier_type in ordered %}
            when by_{{ identifier_type }}.customer_id is not null then {{ relation }}.{{ identifier_type }}
            {%- endfor %}
        end as attributed_by_value
    from {{ relation }}
    {%- for identifier_type in ordered %}
    left join {{ identifiers }} as by_{{ identifier_type }}
        on by_{{ identifier_type }}.identifier_type = '{{ identifier_type }}'
        and by_{{ identifier_type }}.identifier_value = {{ relation }}.{{ identifier_type }}
    {%- endfor %}
{%- endmacro %}

{#- A JSON object (as text) from (key, SQL expression) pairs, for timeline `properties`. -#}
{% macro json_object_text(pairs) -%}
    {{ return(adapter.dispatch('json_object_text', 'waymark')(pairs)) }}
{%- endmacro %}
{% macro default__json_object_text(pairs) -%}
    to_json(named_struct({% for key, expression in pairs %}'{{ key }}', {{ expression }}{{ ', ' if not loop.last }}{% endfor %}))
{%- endmacro %}
{% macro duckdb__json_object_text(pairs) -%}
    cast(json_object({% for key, expression in pairs %}'{{ key }}', {{ expression }}{{ ', ' if not loop.last }}{% endfor %}) as {{ dbt.type_string() }})
{%- endmacro %}

{#- Integer score extracted from a JSON text column, null when absent or not a number. -#}
{% macro json_int(column, path) -%}
    try_cast({{ waymark.json_str(column, path) }} as integer)
{%- endmacro %}
