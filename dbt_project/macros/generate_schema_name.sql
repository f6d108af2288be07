{#- Schemas are the layer names themselves (`marts.customers`), not `<target>_<layer>`,
    so users and activations query stable names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
