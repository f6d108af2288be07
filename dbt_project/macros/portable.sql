{#- Engine-specific SQL behind adapter.dispatch, so models stay portable (DuckDB today, Spark later).
    `default__` variants are written for Spark SQL; DuckDB overrides where it differs. -#}

{% macro json_str(column, path) -%}
    {{ return(adapter.dispatch('json_str', 'waymark')(column, path)) }}
{%- endmacro %}
{% macro default__json_str(column, path) -%}
    get_json_object({{ column }}, '{{ path }}')
{%- endmacro %}
{% macro duckdb__json_str(column, path) -%}
    json_extract_string({{ column }}, '{{ path }}')
{%- endmacro %}

{#- Parse a JSON object once into a struct of the fields named in `shape` (a dict: key -> 'text',
    'json' for raw JSON text, or a nested dict). Extracting each field separately parses the
    document once per field, which dominates event staging at volume. Fields are read with
    `json_struct_field`. A key whose value has another type comes back as its JSON text. -#}
{% macro json_struct(column, shape) -%}
    {{ return(adapter.dispatch('json_struct', 'waymark')(column, shape)) }}
{%- endmacro %}
{% macro default__json_struct(column, shape) -%}
    from_json({{ column }}, '{{ waymark._spark_struct_type(shape) }}')
{%- endmacro %}
{% macro duckdb__json_struct(column, shape) -%}
    json_transform({{ column }}, '{{ tojson(waymark._duckdb_json_structure(shape)) }}')
{%- endmacro %}
{% macro _spark_struct_type(shape) -%}
    struct<{%- for key, kind in shape.items() -%}
        {{ key }}:{{ waymark._spark_struct_type(kind) if kind is mapping else 'string' }}{{ ',' if not loop.last }}
    {%- endfor -%}>
{%- endmacro %}
{% macro _duckdb_json_structure(shape) -%}
    {%- set structure = {} -%}
    {%- for key, kind in shape.items() -%}
        {%- do structure.update({key: waymark._duckdb_json_structure(kind) if kind is mapping
            else ('JSON' if kind == 'json' else 'VARCHAR')}) -%}
    {%- endfor -%}
    {{ return(structure) }}
{%- endmacro %}

{#- A field of a `json_struct` result as text, by dotted path (`traits.email`). -#}
{% macro json_struct_field(struct_column, dotted_path) -%}
    cast({{ struct_column }}.{{ dotted_path }} as {{ dbt.type_string() }})
{%- endmacro %}

{% macro json_valid(column) -%}
    {{ return(adapter.dispatch('json_valid', 'waymark')(column)) }}
{%- endmacro %}
{% macro default__json_valid(column) -%}
    (from_json({{ column }}, 'map<string,string>') is not null)
{%- endmacro %}
{% macro duckdb__json_valid(column) -%}
    {#- json_valid() only validates; casting to JSON first builds a document, twice the cost. #}
    coalesce(json_valid({{ column }}) and regexp_matches({{ column }}, '^\s*\{'), false)
{%- endmacro %}

{% macro regex_match(column, pattern) -%}
    {{ return(adapter.dispatch('regex_match', 'waymark')(column, pattern)) }}
{%- endmacro %}
{% macro default__regex_match(column, pattern) -%}
    ({{ column }} rlike {{ pattern }})
{%- endmacro %}
{% macro duckdb__regex_match(column, pattern) -%}
    regexp_matches({{ column }}, {{ pattern }})
{%- endmacro %}

{% macro regex_replace_all(column, pattern, replacement) -%}
    {{ return(adapter.dispatch('regex_replace_all', 'waymark')(column, pattern, replacement)) }}
{%- endmacro %}
{% macro default__regex_replace_all(column, pattern, replacement) -%}
    regexp_replace({{ column }}, {{ pattern }}, {{ replacement }})
{%- endmacro %}
{% macro duckdb__regex_replace_all(column, pattern, replacement) -%}
    regexp_replace({{ column }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}

{#- ISO-8601 text (with 'Z' or an offset, or none meaning UTC) to a UTC timestamp; null when
    unparseable, so the caller can quarantine the row instead of failing the build. -#}
{% macro parse_utc_timestamp(column) -%}
    {{ return(adapter.dispatch('parse_utc_timestamp', 'waymark')(column)) }}
{%- endmacro %}
{% macro default__parse_utc_timestamp(column) -%}
    to_utc_timestamp(try_to_timestamp({{ column }}), 'UTC')
{%- endmacro %}
{% macro duckdb__parse_utc_timestamp(column) -%}
    {#- Through epoch microseconds: converting with timezone('UTC', ...) goes through ICU and
        costs twice as much per row. Text without an offset is read in the session zone, UTC. #}
    make_timestamp(epoch_us(try_cast(nullif(trim({{ column }}), '') as timestamptz)))
{%- endmacro %}

{#- Whether a parsed timestamp lies in var('plausible_timestamps'). A time outside it is not a
    real time (year 99999, a date BC, "epoch" read as 1970): a row that needs the time is set aside
    (`implausible_timestamp: <column>`), an optional time is nulled and recorded. The bounds are
    fixed dates, not relative to as_of, so every build judges a row the same way. -#}
{% macro plausible_timestamp(column) -%}
    {%- set window = var('plausible_timestamps') -%}
    ({{ column }} >= {{ waymark.parse_utc_timestamp(waymark.string_literal(window['earliest'])) }}
        and {{ column }} <= {{ waymark.parse_utc_timestamp(waymark.string_literal(window['latest'])) }})
{%- endmacro %}

{#- The parsed timestamp when plausible, else null. -#}
{% macro if_plausible(column) -%}
    case when {{ waymark.plausible_timestamp(column) }} then {{ column }} end
{%- endmacro %}

{#- Why an optional timestamp was nulled, or null: expects `<column>_given` (text was there) and
    `<column>_parsed` in the row. -#}
{% macro optional_timestamp_problem(column) -%}
    case
        when {{ column }}_given and {{ column }}_parsed is null then 'unparseable_timestamp: {{ column }}'
        when not {{ waymark.plausible_timestamp(column ~ '_parsed') }} then 'implausible_timestamp: {{ column }}'
    end
{%- endmacro %}

{#- True when ISO-8601 text carries no UTC offset or zone (`2026-01-05T10:00:00`, `2026-01-05`),
    so it is read as UTC; counted per source in `source_quality`. Most landed times end in `Z`,
    which is checked first because it is cheap. Brackets, not backslashes: Spark consumes
    backslashes in string literals. -#}
{% macro lacks_utc_offset(column) -%}
    (right({{ column }}, 1) <> 'Z'
        and not {{ waymark.regex_match(column, "':[0-9]{2}([.][0-9]*)? *([zZ]|[+-][0-9]{2}(:?[0-9]{2})?|[A-Za-z][A-Za-z0-9_/+-]*) *$'") }})
{%- endmacro %}

{#- A SQL string literal holding `value` exactly; user-written config reaches SQL only this way. -#}
{% macro string_literal(value) -%}
    {{ return(adapter.dispatch('string_literal', 'waymark')(value)) }}
{%- endmacro %}
{% macro default__string_literal(value) -%}
    '{{ value | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
{% macro duckdb__string_literal(value) -%}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}

{#- The incremental strategy that replaces rows by unique key. Spark needs a table format with
    MERGE (Delta, Iceberg) for it. -#}
{% macro upsert_strategy() -%}
    {{ return(adapter.dispatch('upsert_strategy', 'waymark')()) }}
{%- endmacro %}
{% macro default__upsert_strategy() -%}{{ return('merge') }}{%- endmacro %}
{% macro duckdb__upsert_strategy() -%}{{ return('delete+insert') }}{%- endmacro %}

{#- Deterministic short hash used for stable ids (first 16 hex chars of md5). -#}
{% macro short_hash(expression) -%}
    substring({{ dbt.hash(expression) }}, 1, 16)
{%- endmacro %}

{#- The instant every time-dependent rule is evaluated at. -#}
{% macro as_of() -%}
    cast('{{ var("as_of") }}' as timestamp)
{%- endmacro %}

{#- The original row as a JSON object of text fields, kept with quarantined rows so nothing is lost. -#}
{% macro raw_row_json(columns) -%}
    {{ return(adapter.dispatch('raw_row_json', 'waymark')(columns)) }}
{%- endmacro %}
{% macro default__raw_row_json(columns) -%}
    to_json(named_struct({% for column in columns %}'{{ column }}', `{{ column }}`{{ ', ' if not loop.last }}{% endfor %}))
{%- endmacro %}
{% macro duckdb__raw_row_json(columns) -%}
    {%- if not columns %}cast(null as varchar){% else -%}
    cast(json_object({% for column in columns %}'{{ column }}', "{{ column }}"{{ ', ' if not loop.last }}{% endfor %}) as varchar)
    {%- endif %}
{%- endmacro %}

{#- The original row, kept only where the row has a problem (`quarantine` shows it): usable rows
    are most of every source, and carrying their text doubled the size and the load time of the
    event table. Refers to `_quarantine_reason` and `_invalid_fields` defined earlier in the same
    select list (a lateral column alias: DuckDB, Spark 3.4+). -#}
{% macro raw_row_of_problems() -%}
    case when _quarantine_reason is not null or _invalid_fields is not null then _raw_row end as _raw_row
{%- endmacro %}

{#- A timestamp as fixed-width text that sorts in time order (microsecond precision). -#}
{% macro sortable_timestamp(column) -%}
    {{ return(adapter.dispatch('sortable_timestamp', 'waymark')(column)) }}
{%- endmacro %}
{% macro default__sortable_timestamp(column) -%}
    date_format({{ column }}, "yyyy-MM-dd'T'HH:mm:ss.SSSSSS")
{%- endmacro %}
{% macro duckdb__sortable_timestamp(column) -%}
    strftime({{ column }}, '%Y-%m-%dT%H:%M:%S.%f')
{%- endmacro %}

{#- Marks a CTE that is read more than once to be computed once. DuckDB may otherwise inline it
    at every reference, which makes iterative CTE chains exponential; Spark reuses exchanges. -#}
{% macro materialized_cte() -%}
    {{ return(adapter.dispatch('materialized_cte', 'waymark')()) }}
{%- endmacro %}
{% macro default__materialized_cte() -%}{%- endmacro %}
{% macro duckdb__materialized_cte() -%}materialized{%- endmacro %}
