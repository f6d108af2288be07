{#- Golden record survivorship, driven by var('golden_record_survivorship') in dbt_project.yml:
    per field, the sources allowed to supply it in priority order, and the strategy that
    combines priority with recency. -#}

{% macro golden_record_fields() -%}
    {{ return(var('golden_record_survivorship')['sources'].keys() | list) }}
{%- endmacro %}

{#- Priority (1 = most trusted) of a candidate's source for its field; null when the source may
    not supply that field. -#}
{% macro golden_record_source_priority(field_column, source_column) -%}
    case {{ field_column }}
    {%- for field, sources in var('golden_record_survivorship')['sources'].items() %}
        when '{{ field }}' then case {{ source_column }}
            {%- for source in sources %} when '{{ source }}' then {{ loop.index }}{% endfor %} end
    {%- endfor %}
    end
{%- endmacro %}

{#- The window ordering that puts the surviving candidate first. -#}
{% macro golden_record_survivor_order(priority_column, observed_at_column, value_column) -%}
    {%- set strategy = var('golden_record_survivorship')['strategy'] -%}
    {%- if strategy == 'recency' -%}
        {{ observed_at_column }} desc, {{ priority_column }}, {{ value_column }}
    {%- elif strategy == 'priority' -%}
        {{ priority_column }}, {{ observed_at_column }} desc, {{ value_column }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("golden_record_survivorship.strategy must be 'recency' or 'priority', got '" ~ strategy ~ "'") }}
    {%- endif -%}
{%- endmacro %}
