{#- The landing zone: the data directory, its source folders and how a landed file is named and
    found. `landed_files` (models/staging/landing_zone) lists every file once per build; the base
    models read the files it accepts (macros/landed_readers.sql) and keep what they loaded
    (macros/landed_file_loads.sql). -#}

{#- The data directory as given (`var('data_dir')`), without a trailing slash. Landed files are
    named by their path relative to it, so a warehouse does not depend on where the folder is. -#}
{% macro data_dir() -%}
    {%- set root = var('data_dir') | string -%}
    {{ return(root.rstrip('/') if root.rstrip('/') else root) }}
{%- endmacro %}

{#- A path as a DuckDB file pattern that matches exactly that path. Readers treat `*`, `?` and
    `[` as glob characters, so a file named `orders-2026-0[1-6].csv` would otherwise read the
    monthly files beside it instead of itself; a one-character class matches the literal. -#}
{% macro glob_literal(path) -%}
    {%- set escaped = [] -%}
    {%- for character in path -%}
        {%- do escaped.append('[' ~ character ~ ']' if character in '*?[' else character) -%}
    {%- endfor -%}
    {{ return(escaped | join('')) }}
{%- endmacro %}

{#- The pattern that reads one landed file (a path relative to the data directory) and nothing else. -#}
{% macro landed_path(relative) -%}
    {{ return(waymark.glob_literal(waymark.data_dir()) ~ '/' ~ waymark.glob_literal(relative)) }}
{%- endmacro %}

{#- File names each source format is read from: `<folder>/<name><suffix>`, nothing deeper. -#}
{% macro landing_formats() -%}
    {{ return({'csv': ['.csv', '.csv.gz'], 'jsonl': ['.jsonl', '.jsonl.gz']}) }}
{%- endmacro %}

{#- The longest line read from a landed file (bytes); a longer line is quarantined. -#}
{% macro landed_line_limit() -%}
    {{ return(4194304) }}
{%- endmacro %}

{#- Every source contract with a landing folder: label (`shop.orders`), folder, format, suffixes. -#}
{% macro landing_contracts() -%}
    {%- set contracts = [] -%}
    {%- if not execute -%}{{ return(contracts) }}{%- endif -%}
    {%- for node in graph.sources.values() if node.package_name == 'waymark' and node.meta.folder -%}
        {%- do contracts.append({
            'label': node.source_name ~ '.' ~ node.name,
            'folder': node.meta.folder,
            'format': node.meta.format,
            'suffixes': waymark.landing_formats()[node.meta.format],
        }) -%}
    {%- endfor -%}
    {{ return(contracts | sort(attribute='folder')) }}
{%- endmacro %}

{% macro source_contract(source_name, table_name) -%}
    {#- The source's YAML entry: the contract columns (in order) and the landing folder. -#}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == source_name and node.name == table_name -%}
            {{ return({'columns': node.columns.keys() | list, 'folder': node.meta.folder, 'format': node.meta.format}) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("No source contract for " ~ source_name ~ "." ~ table_name) }}
{%- endmacro %}

{% macro source_columns(source_name, table_name) -%}
    {#- Unit tests see no `graph.sources`; their fixtures need no raw-row copy. -#}
    {%- if not execute or model.resource_type == 'unit_test' -%}{{ return([]) }}{%- endif -%}
    {{ return(waymark.source_contract(source_name, table_name).columns) }}
{%- endmacro %}

{#- Empty tables in schema `landing` with each source contract's columns, created before every
    run on DuckDB. They show the contract in the warehouse and give dbt unit tests a relation to
    type their fixtures from; the data itself is read from the files. -#}
{% macro create_source_contract_tables() -%}
    {{ return(adapter.dispatch('create_source_contract_tables', 'waymark')()) }}
{%- endmacro %}

{% macro default__create_source_contract_tables() -%}
    select 1
{%- endmacro %}

{% macro duckdb__create_source_contract_tables() -%}
    {%- if execute -%}
    create schema if not exists landing;
    {#- Lines that could not be parsed are kept in the base models now (`_source_line`); an
        older warehouse's separate table of them would only mislead. #}
    drop table if exists staging.landing_rejects;
    {%- for node in graph.sources.values() if node.package_name == 'waymark' and node.meta.folder %}
    create table if not exists landing.{{ node.name }} (
        {%- for column in node.columns.keys() %}
        "{{ column }}" varchar{{ ',' if not loop.last }}
        {%- endfor %}
    );
    {%- endfor %}
    {%- endif -%}
{%- endmacro %}
