{#- Reading landed files: each file by its exact path, every line it holds either a row or a
    rejected line with its line number (kept by `keep_rejected_lines`). On DuckDB the files are
    read directly; elsewhere (Spark) the source is an external table over the same folder, so
    `default__` selects it. -#}

{#- Every contract column as text, plus `_source_file` and `_source_file_version`, from the files
    the build's plan reads. A line that cannot be parsed (quoting, field count, invalid UTF-8, too
    long) is rejected, not read; a header that is not UTF-8, lacks a contract column or names one
    twice stops the build with an error naming the file. -#}
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
    {%- set plan = waymark.landed_file_plan(source_name, table_name) -%}
    {%- if not execute -%}
        select 1 as _parse_placeholder
    {%- elif model.resource_type == 'unit_test' -%}
        {#- dbt unit tests hand the fixture rows in as the source relation. -#}
        select *, 'unit_test' as _source_file, 'unit_test' as _source_file_version from {{ relation }}
    {%- else -%}
    {%- set contract = waymark.source_contract(source_name, table_name) -%}
    {%- set rejects = waymark.rejects_tables() -%}
    {%- set selects = [] -%}
    {%- for file in plan.read -%}
        {%- set header = waymark.landed_csv_header(source_name ~ '.' ~ table_name, file, contract.columns) -%}
        {%- if header is none -%}
            {%- do log("waymark: " ~ file ~ " is empty", info=true) -%}
        {%- else -%}
            {%- set columns_arg -%}{ {%- for name in header -%}{{ waymark.string_literal(name) }}: 'VARCHAR'{{ ', ' if not loop.last }}{%- endfor -%} }{%- endset -%}
            {%- set select_sql -%}
                select {% for column in contract.columns %}"{{ column }}", {% endfor %}
                    {{ waymark.string_literal(file) }} as _source_file,
                    {{ waymark.string_literal(plan.versions[file]) }} as _source_file_version
                from read_csv({{ waymark.string_literal(waymark.landed_path(file)) }}, header=true,
                    auto_detect=false, delim=',', quote='"', escape='"', columns={{ columns_arg }},
                    null_padding=false, max_line_size={{ waymark.landed_line_limit() }},
                    ignore_errors=true, store_rejects=true, rejects_table='{{ rejects.errors }}',
                    rejects_scan='{{ rejects.scans }}')
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

{#- The column names of a landed CSV file's header, in order, or none for an empty file. Names
    that are empty or repeat a column the contract does not use get placeholder names; a header
    that is not text, lacks a contract column or names one twice stops the build naming the file. -#}
{% macro landed_csv_header(source_label, file, contract_columns) -%}
    {%- set where = file ~ " (" ~ source_label ~ "): " -%}
    {%- set errors, scans = '_waymark_header_errors', '_waymark_header_scans' -%}
    {#- Line 1 alone, as one text field; a line the reader rejects is recorded with its number. -#}
    {%- do run_query(
        "drop table if exists temp." ~ errors ~ "; drop table if exists temp." ~ scans ~ ";"
        ~ " create or replace temp table _waymark_header as select raw from read_csv("
        ~ waymark.string_literal(waymark.landed_path(file)) ~ ", columns={'raw': 'VARCHAR'},"
        ~ " header=false, auto_detect=false, delim=chr(1), quote='', escape='',"
        ~ " max_line_size=" ~ waymark.landed_line_limit() ~ ", ignore_errors=true, store_rejects=true,"
        ~ " rejects_table='" ~ errors ~ "', rejects_scan='" ~ scans ~ "') limit 1") -%}
    {%- set first = run_query(
        "select (select cast(error_type as varchar) from temp." ~ errors ~ " where line = 1 limit 1),"
        ~ " (select raw from _waymark_header)") -%}
    {%- set problem, line = first.rows[0][0], first.rows[0][1] -%}
    {%- if problem == 'INVALID ENCODING' -%}
        {{ exceptions.raise_compiler_error(where ~ "the header (line 1) is not valid UTF-8 text; files are read as UTF-8") }}
    {%- elif problem == 'LINE SIZE OVER MAXIMUM' -%}
        {{ exceptions.raise_compiler_error(where ~ "the header (line 1) is longer than " ~ waymark.landed_line_limit() ~ " bytes; is this a CSV file?") }}
    {%- elif problem -%}
        {{ exceptions.raise_compiler_error(where ~ "the header (line 1) could not be read as text (" ~ problem | lower ~ "); is this a CSV file?") }}
    {%- elif line is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for raw_name in line.split(',') -%}
        {%- do names.append(raw_name.strip().strip('"').strip().lstrip('\ufeff')) -%}
    {%- endfor -%}
    {%- set missing = [] -%}
    {%- for column in contract_columns if column not in names -%}{%- do missing.append(column) -%}{%- endfor -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            "Source file " ~ file ~ " (" ~ source_label ~ ") does not match its contract: missing column(s) " ~ missing | join(', ')
            ~ "; header is [" ~ names | join(', ') ~ "]. Expected columns: " ~ contract_columns | join(', ')) }}
    {%- endif -%}
    {%- set header = [] -%}
    {%- for name in names -%}
        {%- if name in contract_columns and name in header -%}
            {{ exceptions.raise_compiler_error(where ~ "the header names column " ~ name ~ " twice; which one holds the data is unclear") }}
        {%- elif name == '' or name in header -%}
            {%- do header.append('_unused_column_' ~ loop.index) -%}
        {%- else -%}
            {%- do header.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(header) }}
{%- endmacro %}

{#- One row per non-blank line of the plan's JSONL files (gzip allowed): `raw` text,
    `_source_file` and `_source_file_version`. Reading lines as text, not with a JSON reader,
    keeps invalid lines so they can be quarantined; lines the reader rejects are kept too. -#}
{% macro read_jsonl_lines(plan) -%}
    {{ return(adapter.dispatch('read_jsonl_lines', 'waymark')(plan)) }}
{%- endmacro %}

{% macro duckdb__read_jsonl_lines(plan) -%}
    {%- if plan.read -%}
    {%- set rejects = waymark.rejects_tables() -%}
    select lines.raw, lines._source_file, versions._source_file_version
    from (
        select raw, substr(filename, {{ waymark.data_dir() | length + 2 }}) as _source_file
        from read_csv(
            [{% for file in plan.read %}{{ waymark.string_literal(waymark.landed_path(file)) }}{{ ', ' if not loop.last }}{% endfor %}],
            columns={'raw': 'VARCHAR'}, header=false, auto_detect=false, delim=chr(1), quote='',
            escape='', filename=true, max_line_size={{ waymark.landed_line_limit() }},
            ignore_errors=true, store_rejects=true, rejects_table='{{ rejects.errors }}',
            rejects_scan='{{ rejects.scans }}'
        )
        {#- Skips blank lines; a regex search stops at the first non-space, where trim() copies the line. #}
        where {{ waymark.regex_match('raw', "'[^[:space:]]'") }}
    ) as lines
    inner join (
        values
        {%- for file in plan.read %}
        ({{ waymark.string_literal(file) }}, {{ waymark.string_literal(plan.versions[file]) }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as versions (_source_file, _source_file_version)
        on versions._source_file = lines._source_file
    {%- else -%}
    select cast(null as varchar) as raw, cast(null as varchar) as _source_file,
        cast(null as varchar) as _source_file_version
    where false
    {%- endif -%}
{%- endmacro %}
