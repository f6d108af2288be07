{#- Loading landed CSV files incrementally. On DuckDB a build parses only the files that are new
    or changed since the model last loaded them, and removes the rows of files that changed or
    left the folder; a file is changed when its size or modification time is. Every row keeps
    `_source_file` and `_source_file_version` (size:mtime), so the table itself records what
    was loaded and a failed build leaves nothing to reconcile. Elsewhere (Spark reads external
    tables) the models stay full tables. -#}

{% macro landed_csv_materialization() -%}
    {{ return(adapter.dispatch('landed_csv_materialization', 'waymark')()) }}
{%- endmacro %}
{% macro default__landed_csv_materialization() -%}{{ return('table') }}{%- endmacro %}
{% macro duckdb__landed_csv_materialization() -%}{{ return('incremental') }}{%- endmacro %}

{% macro landed_file_versions(folder, patterns) -%}
    {#- file -> 'size:mtime' for the landed files of a folder (DuckDB: read_blob reads only the
        metadata when `content` is not selected). -#}
    {%- set versions = {} -%}
    {%- set files = waymark.landed_files(folder, patterns) -%}
    {%- if files -%}
        {%- set result = run_query(
            "select filename, cast(size as varchar) || ':' || cast(epoch_us(last_modified) as varchar)"
            ~ " from read_blob([" ~ waymark.string_literals(files) ~ "])") -%}
        {%- for row in result.rows -%}{%- do versions.update({row[0]: row[1]}) -%}{%- endfor -%}
    {%- endif -%}
    {{ return(versions) }}
{%- endmacro %}

{% macro csv_file_plan(source_name, table_name) -%}
    {#- What the current build of this model does with the landed files: `versions` (every
        landed file), `read` (files to parse: all of them, or on an incremental build the new and
        changed ones), `stale` (files whose loaded rows must go: changed or removed) and
        `removed`. -#}
    {%- set contract = waymark.source_contract(source_name, table_name) -%}
    {%- set versions = waymark.landed_file_versions(contract.folder, ['*.csv', '*.csv.gz']) -%}
    {%- if not is_incremental() -%}
        {{ return({'versions': versions, 'read': versions.keys() | sort, 'stale': [], 'removed': []}) }}
    {%- endif -%}
    {%- set loaded = {} -%}
    {%- set result = run_query("select distinct _source_file, _source_file_version from " ~ this) -%}
    {%- for row in result.rows -%}{%- do loaded.update({row[0]: row[1]}) -%}{%- endfor -%}
    {%- set read, stale, removed = [], [], [] -%}
    {%- for file in versions.keys() | sort if loaded.get(file) != versions[file] -%}{%- do read.append(file) -%}{%- endfor -%}
    {%- for file in loaded.keys() | sort if versions.get(file) != loaded[file] -%}
        {%- do stale.append(file) -%}
        {%- if file not in versions -%}{%- do removed.append(file) -%}{%- endif -%}
    {%- endfor -%}
    {{ return({'versions': versions, 'read': read, 'stale': stale, 'removed': removed}) }}
{%- endmacro %}

{% macro forget_stale_csv_files(source_name, table_name) -%}
    {#- Pre-hook: rows of changed or removed files leave the table (their new rows are appended
        by the model); malformed-line records of removed files go too (a changed file's were
        replaced when it was parsed). -#}
    {{ return(adapter.dispatch('forget_stale_csv_files', 'waymark')(source_name, table_name)) }}
{%- endmacro %}
{% macro default__forget_stale_csv_files(source_name, table_name) -%}select 1{%- endmacro %}
{% macro duckdb__forget_stale_csv_files(source_name, table_name) -%}
    {%- if execute and is_incremental() -%}
        {%- set plan = waymark.csv_file_plan(source_name, table_name) -%}
        {%- if plan.stale -%}
        delete from {{ this }} where _source_file in ({{ waymark.string_literals(plan.stale) }});
        {%- endif -%}
        {%- if plan.removed -%}
        delete from staging.landing_rejects
        where source_name = {{ waymark.string_literal(source_name ~ '.' ~ table_name) }}
            and source_file in ({{ waymark.string_literals(plan.removed) }});
        {%- endif %}
        select 1
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro string_literals(values) -%}
    {%- for value in values -%}{{ waymark.string_literal(value) }}{{ ', ' if not loop.last }}{%- endfor -%}
{%- endmacro %}
