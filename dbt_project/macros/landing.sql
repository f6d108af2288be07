{#- Reading landed source files. On DuckDB the files are read directly; elsewhere (Spark) the
    source is expected to be an external table over the same folder, so `default__` selects it. -#}

{% macro landed_files(folder, patterns) -%}
    {#- Absolute paths of the files in <data_dir>/<folder> matching any pattern, sorted.
        A glob that matches nothing must not raise, so each pattern is globbed separately. -#}
    {%- set files = [] -%}
    {%- if execute -%}
        {%- for pattern in patterns -%}
            {%- set path = var('data_dir') ~ '/' ~ folder ~ '/' ~ pattern -%}
            {%- set result = run_query("select file from glob('" ~ path | replace("'", "''") ~ "') order by file") -%}
            {%- for row in result.rows -%}{%- do files.append(row[0]) -%}{%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(files | sort) }}
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

{#- Every contract column as text, plus `_source_file`. Malformed CSV rows (bad quoting, wrong
    field count) are recorded in `staging.landing_rejects` with file, line and DuckDB's message,
    and skipped here; a file whose header lacks a contract column stops the build with an error
    naming the file and the columns. -#}
{% macro read_landed_csv(source_name, table_name) -%}
    {{ return(adapter.dispatch('read_landed_csv', 'waymark')(source_name, table_name)) }}
{%- endmacro %}

{% macro default__read_landed_csv(source_name, table_name) -%}
    select *, cast(null as {{ dbt.type_string() }}) as _source_file,
        cast(null as {{ dbt.type_string() }}) as _source_file_version
    from {{ source(source_name, table_name) }}
{%- endmacro %}

{% macro duckdb__read_landed_csv(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        select 1 as _parse_placeholder
    {%- elif model.resource_type == 'unit_test' -%}
        {#- dbt unit tests hand the fixture rows in as the source relation. -#}
        select *, 'unit_test' as _source_file, 'unit_test' as _source_file_version from {{ relation }}
    {%- else -%}
    {%- set contract = waymark.source_contract(source_name, table_name) -%}
    {%- set plan = waymark.csv_file_plan(source_name, table_name) -%}
    {%- set selects = [] -%}
    {%- for file in plan.read -%}
        {%- set header_row = run_query(
            "select raw from read_csv(" ~ waymark.string_literal(file) ~ ", columns={'raw': 'varchar'},"
            ~ " header=false, auto_detect=false, delim=chr(1), quote='', escape='') limit 1") -%}
        {%- if header_row.rows | length == 0 -%}
            {%- do log("waymark: skipping empty file " ~ file, info=true) -%}
        {%- else -%}
            {%- set header = [] -%}
            {%- for name in header_row.rows[0][0].split(',') -%}
                {%- do header.append(name.strip().strip('"').strip().lstrip('\ufeff')) -%}
            {%- endfor -%}
            {%- set missing = [] -%}
            {%- for column in contract.columns if column not in header -%}{%- do missing.append(column) -%}{%- endfor -%}
            {%- if missing -%}
                {{ exceptions.raise_compiler_error(
                    "Source file " ~ file ~ " (" ~ source_name ~ "." ~ table_name ~ ") does not match its contract: missing column(s) "
                    ~ missing | join(', ') ~ "; header is [" ~ header | join(', ') ~ "]. Expected columns: " ~ contract.columns | join(', ')) }}
            {%- endif -%}
            {%- set columns_arg -%}{ {%- for name in header -%}{{ waymark.string_literal(name) }}: 'VARCHAR'{{ ', ' if not loop.last }}{%- endfor -%} }{%- endset -%}
            {%- set reader -%}
                read_csv({{ waymark.string_literal(file) }}, header=true, auto_detect=false, delim=',', quote='"',
                         escape='"', columns={{ columns_arg }}, filename=true, null_padding=false
            {%- endset -%}
            {%- do waymark.record_csv_rejects(source_name ~ '.' ~ table_name, file, reader) -%}
            {%- set select_sql -%}
                select {% for column in contract.columns %}"{{ column }}", {% endfor %}filename as _source_file,
                    {{ waymark.string_literal(plan.versions[file]) }} as _source_file_version
                from {{ reader }}, ignore_errors=true)
            {%- endset -%}
            {%- do selects.append(select_sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if selects -%}
        {{ selects | join('\nunion all\n') }}
    {%- else -%}
        select {% for column in contract.columns %}cast(null as varchar) as "{{ column }}", {% endfor %}cast(null as varchar) as _source_file,
            cast(null as varchar) as _source_file_version
        where false
    {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro record_csv_rejects(source_label, file, reader) -%}
    {#- Parse once with store_rejects so malformed lines are kept with their line number and
        DuckDB's reason; the table is replaced per file, so re-reading a file never duplicates. -#}
    {#- `staging.landing_rejects` is created once in on-run-start: models read files on
        several threads, and concurrent CREATEs of one table conflict in DuckDB. -#}
    {%- call statement('csv_rejects', fetch_result=false) -%}
        delete from staging.landing_rejects where source_file = {{ waymark.string_literal(file) }};
        create or replace temp table _waymark_parse as
            select * from {{ reader }}, store_rejects=true,
                rejects_table='_waymark_reject_errors', rejects_scan='_waymark_reject_scans');
        insert into staging.landing_rejects
            select {{ waymark.string_literal(source_label) }}, {{ waymark.string_literal(file) }},
                   errors.line, errors.csv_line,
                   'malformed_csv_row: ' || errors.error_type || ': ' || errors.error_message
            from _waymark_reject_errors as errors;
        drop table _waymark_parse;
    {%- endcall -%}
{%- endmacro %}

{% macro source_columns(source_name, table_name) -%}
    {#- Unit tests see no `graph.sources`; their fixtures need no raw-row copy. -#}
    {%- if not execute or model.resource_type == 'unit_test' -%}{{ return([]) }}{%- endif -%}
    {{ return(waymark.source_contract(source_name, table_name).columns) }}
{%- endmacro %}

{#- One row per line of the given JSONL files (gzip allowed): `raw` text and `_source_file`.
    Reading lines as text, not with a JSON reader, keeps invalid lines so they can be quarantined. -#}
{% macro read_jsonl_lines(files) -%}
    {{ return(adapter.dispatch('read_jsonl_lines', 'waymark')(files)) }}
{%- endmacro %}

{% macro duckdb__read_jsonl_lines(files) -%}
    {%- if files -%}
    select raw, filename as _source_file
    from read_csv(
        [{% for file in files %}{{ waymark.string_literal(file) }}{{ ', ' if not loop.last }}{% endfor %}],
        columns={'raw': 'VARCHAR'}, header=false, auto_detect=false, delim=chr(1), quote='',
        escape='', filename=true, max_line_size=4194304
    )
    {#- Skips blank lines; a regex search stops at the first non-space, where trim() copies the line. #}
    where {{ waymark.regex_match('raw', "'[^[:space:]]'") }}
    {%- else -%}
    select cast(null as varchar) as raw, cast(null as varchar) as _source_file where false
    {%- endif -%}
{%- endmacro %}

{#- Files of a folder not yet loaded into `relation` (tracked by its `_source_file` column). -#}
{% macro unloaded_files(folder, patterns, relation) -%}
    {%- set files = waymark.landed_files(folder, patterns) -%}
    {%- if not execute or relation is none -%}{{ return(files) }}{%- endif -%}
    {%- set loaded = run_query("select distinct _source_file from " ~ relation) -%}
    {%- set seen = loaded.columns[0].values() | list -%}
    {{ return(files | reject('in', seen) | list) }}
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
    {{ waymark.ensure_landing_rejects() }};
    create schema if not exists landing;
    {%- for node in graph.sources.values() if node.package_name == 'waymark' %}
    create table if not exists landing.{{ node.name }} (
        {%- for column in node.columns.keys() %}
        "{{ column }}" varchar{{ ',' if not loop.last }}
        {%- endfor %}
    );
    {%- endfor %}
    {%- endif -%}
{%- endmacro %}
