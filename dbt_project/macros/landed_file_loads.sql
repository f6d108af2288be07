{#- Loading landed files incrementally. Every row of a base model keeps `_source_file` (its file's
    path relative to the data directory) and `_source_file_version` (the file's content hash, from
    `landed_files`), so the table itself records what it loaded: a build parses only the files
    that are new or whose content changed, and removes the rows of files that changed or left the
    folder. The same folder moved elsewhere, or copied with new modification times, loads nothing
    twice, and a failed build leaves nothing to reconcile. Elsewhere (Spark reads external
    tables) the models stay full tables. -#}

{% macro landed_file_materialization() -%}
    {{ return(adapter.dispatch('landed_file_materialization', 'waymark')()) }}
{%- endmacro %}
{% macro default__landed_file_materialization() -%}{{ return('table') }}{%- endmacro %}
{% macro duckdb__landed_file_materialization() -%}{{ return('incremental') }}{%- endmacro %}

{% macro landed_file_plan(source_name, table_name) -%}
    {#- What this build of a base model does with its source's files: `versions` (file ->
        content hash, every readable non-empty file `landed_files` gives the source), `read` (the
        files to parse: all of them, or on an incremental build the new and changed ones) and
        `stale` (loaded files whose rows must go: changed or no longer landed). -#}
    {#- Unit tests hand fixture rows in for the source and know no inventory. -#}
    {%- if model.resource_type == 'unit_test' -%}
        {{ return({'versions': {}, 'read': [], 'stale': []}) }}
    {%- endif -%}
    {%- set inventory = source('landing_zone', 'landed_files') -%}
    {%- if not execute -%}
        {{ return({'versions': {}, 'read': [], 'stale': []}) }}
    {%- endif -%}
    {%- set versions = {} -%}
    {%- set landed = run_query(
        "select file_path, content_hash from " ~ inventory ~ " where source_name = "
        ~ waymark.string_literal(source_name ~ '.' ~ table_name) ~ " and is_read and size_bytes > 0") -%}
    {%- for row in landed.rows -%}{%- do versions.update({row[0]: row[1]}) -%}{%- endfor -%}
    {%- if not is_incremental() -%}
        {{ return({'versions': versions, 'read': versions.keys() | sort, 'stale': []}) }}
    {%- endif -%}
    {%- set loaded = {} -%}
    {%- set result = run_query("select distinct _source_file, _source_file_version from " ~ this) -%}
    {%- for row in result.rows -%}{%- do loaded.update({row[0]: row[1]}) -%}{%- endfor -%}
    {%- set read, stale = [], [] -%}
    {%- for file in versions.keys() | sort if loaded.get(file) != versions[file] -%}{%- do read.append(file) -%}{%- endfor -%}
    {%- for file in loaded.keys() | sort if versions.get(file) != loaded[file] -%}{%- do stale.append(file) -%}{%- endfor -%}
    {{ return({'versions': versions, 'read': read, 'stale': stale}) }}
{%- endmacro %}

{#- Temporary tables (per connection) where the readers of one model store the lines they could
    not parse, with file and line number, until `keep_rejected_lines` moves them into the model. -#}
{% macro rejects_tables() -%}
    {{ return({'errors': '_waymark_rejects_' ~ this.identifier, 'scans': '_waymark_reject_scans_' ~ this.identifier}) }}
{%- endmacro %}

{% macro forget_stale_files(source_name, table_name) -%}
    {#- Pre-hook of a base model: rows of changed or removed files leave the table (a changed
        file's new rows are appended by the model), and no rejected lines of an earlier model run
        on this connection are left to be kept twice. -#}
    {{ return(adapter.dispatch('forget_stale_files', 'waymark')(source_name, table_name)) }}
{%- endmacro %}
{% macro default__forget_stale_files(source_name, table_name) -%}select 1{%- endmacro %}
{% macro duckdb__forget_stale_files(source_name, table_name) -%}
    {%- set names = waymark.rejects_tables() -%}
    drop table if exists temp.{{ names.errors }};
    drop table if exists temp.{{ names.scans }};
    {%- if execute and is_incremental() -%}
        {%- set plan = waymark.landed_file_plan(source_name, table_name) -%}
        {%- if plan.stale %}
    delete from {{ this }} where _source_file in ({{ waymark.string_literals(plan.stale) }});
        {%- endif -%}
    {%- endif %}
    select 1
{%- endmacro %}

{% macro keep_rejected_lines(source_name, table_name) -%}
    {#- Post-hook of a base model: each line the readers could not parse becomes one row of the
        model (one per line, however many of its fields failed), attributed to its own file and
        line, with a plain reason and the start of the line. `quarantine` lists them. -#}
    {{ return(adapter.dispatch('keep_rejected_lines', 'waymark')(source_name, table_name)) }}
{%- endmacro %}
{% macro default__keep_rejected_lines(source_name, table_name) -%}select 1{%- endmacro %}
{% macro duckdb__keep_rejected_lines(source_name, table_name) -%}
    {%- set names = waymark.rejects_tables() -%}
    {%- set inventory = source('landing_zone', 'landed_files') -%}
    {%- set stored = run_query(
        "select count(*) from duckdb_tables() where temporary and table_name = "
        ~ waymark.string_literal(names.errors)) if execute else none -%}
    {%- if stored is none or stored.rows[0][0] == 0 -%}
    select 1
    {%- else -%}
    {%- set format = waymark.source_contract(source_name, table_name).format -%}
    {%- set prefix_length = waymark.data_dir() | length + 1 -%}
    insert into {{ this }} by name
    select
        lines._source_file,
        landed_files.content_hash as _source_file_version,
        lines._source_line,
        lines._quarantine_reason,
        lines._raw_row
    from (
        {#- DuckDB reports a short or long line once per missing or extra field; each line keeps
            one reason, the most telling of its errors. #}
        select
            _source_file,
            _source_line,
            arg_min(reason, priority) as _quarantine_reason,
            {#- An unterminated quote can swallow the rest of a file: keep the start. #}
            left(min(csv_line), 10000) as _raw_row
        from (
            select
                substr(scans.file_path, {{ prefix_length + 1 }}) as _source_file,
                errors.line as _source_line,
                {{ waymark.rejected_line_reason(format) }} as reason,
                {{ waymark.rejected_line_priority() }} as priority,
                min(errors.csv_line) as csv_line
            from temp.{{ names.errors }} as errors
            inner join temp.{{ names.scans }} as scans
                on scans.scan_id = errors.scan_id
                and scans.file_id = errors.file_id
            group by scans.file_path, errors.line, errors.error_type
        ) as errors_by_type
        group by _source_file, _source_line
    ) as lines
    left join {{ inventory }} as landed_files
        on landed_files.file_path = lines._source_file;
    drop table temp.{{ names.errors }};
    drop table temp.{{ names.scans }}
    {%- endif -%}
{%- endmacro %}

{#- Why the reader rejected a line, in plain words, from DuckDB's error type and messages, over
    the errors of one type on one line (`errors`, grouped by line and type). -#}
{% macro rejected_line_reason(format) -%}
    case errors.error_type
        when 'INVALID ENCODING' then 'invalid_utf8: the line is not valid UTF-8 text'
        when 'LINE SIZE OVER MAXIMUM'
            then 'line_too_long: the line is longer than {{ waymark.landed_line_limit() }} bytes, the longest line read'
        when 'UNQUOTED VALUE' then 'malformed_csv_row: unterminated quote'
        {%- if format == 'jsonl' %}
        {#- Lines are read whole with byte 0x01 as the separator; JSON never holds a raw one. #}
        when 'TOO MANY COLUMNS' then 'control_character: the line holds a raw control character (byte 0x01)'
        {%- endif %}
        {#- One error per missing or extra field, counting from the fields found. #}
        when 'MISSING COLUMNS' then 'malformed_csv_row: expected ' || {{ waymark._reported_count('any_value', 'Columns') }}
            || ' fields, found ' || {{ waymark._reported_count('min', 'Found') }}
        when 'TOO MANY COLUMNS' then 'malformed_csv_row: expected ' || {{ waymark._reported_count('any_value', 'Columns') }}
            || ' fields, found ' || {{ waymark._reported_count('max', 'Found') }}
        else 'malformed_row: ' || lower(cast(errors.error_type as varchar)) || ': ' || any_value(errors.error_message)
    end
{%- endmacro %}
{% macro _reported_count(aggregate, label) -%}
    cast({{ aggregate }}(try_cast(regexp_extract(errors.error_message, '{{ label }}: ([0-9]+)', 1) as integer)) as varchar)
{%- endmacro %}

{#- Which of a line's errors names it best: encoding and length first, then quoting, then counts. -#}
{% macro rejected_line_priority() -%}
    case errors.error_type
        when 'INVALID ENCODING' then 1
        when 'LINE SIZE OVER MAXIMUM' then 2
        when 'UNQUOTED VALUE' then 3
        else 4
    end
{%- endmacro %}

{#- Files whose rows an incremental model downstream of a base model (`upstream`, a model name)
    loaded from a version that is no longer there (the file changed or left): their rows must go
    and be loaded again. Unit tests hand in fixture rows and have no upstream to compare. -#}
{% macro stale_loaded_files(upstream_model, condition='true') -%}
    {%- if model.resource_type == 'unit_test' -%}{{ return([]) }}{%- endif -%}
    {%- set upstream = ref(upstream_model) -%}
    {%- if not execute or not is_incremental() -%}{{ return([]) }}{%- endif -%}
    {#- Distinct pairs on each side first: a few hundred files, not every row, meet in the except. -#}
    {%- set result = run_query(
        "select distinct _source_file from ((select distinct _source_file, _source_file_version from "
        ~ this ~ " where _source_file is not null and (" ~ condition ~ ")) except (select distinct"
        ~ " _source_file, _source_file_version from " ~ upstream ~ ")) as stale order by 1") -%}
    {{ return(result.columns[0].values() | list) }}
{%- endmacro %}

{% macro forget_stale_loads(upstream_model, condition='true') -%}
    {#- Pre-hook of such a model: the rows of those files leave. -#}
    {%- set stale = waymark.stale_loaded_files(upstream_model, condition) -%}
    {%- if stale -%}
    delete from {{ this }}
    where ({{ condition }}) and _source_file in ({{ waymark.string_literals(stale) }})
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{% macro string_literals(values) -%}
    {%- for value in values -%}{{ waymark.string_literal(value) }}{{ ', ' if not loop.last }}{%- endfor -%}
{%- endmacro %}
