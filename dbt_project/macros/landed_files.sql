{#- The inventory of the landing zone, `staging.landed_files` (source `landing_zone`): every
    file under the data directory, the source that reads it or the reason none does, and the
    content hash the base models track it by. Rebuilt by on-run-start, before any model, on
    every dbt invocation whatever it selects: the one place files are listed and hashed, so a
    plain `dbt build`, `waymark build`, the Dagster asset and a run of one model all read the
    landing zone as it is now. -#}

{% macro refresh_landed_files() -%}
    {{ return(adapter.dispatch('refresh_landed_files', 'waymark')()) }}
{%- endmacro %}

{#- Elsewhere (Spark) sources are external tables over the folders and the engine lists them. -#}
{% macro default__refresh_landed_files() -%}
    create or replace view staging.landed_files as
    select
        cast(null as {{ dbt.type_string() }}) as file_path,
        cast(null as {{ dbt.type_string() }}) as source_name,
        cast(null as {{ dbt.type_string() }}) as file_format,
        cast(null as bigint) as size_bytes,
        cast(null as timestamp) as modified_at,
        cast(null as {{ dbt.type_string() }}) as content_hash,
        cast(null as {{ dbt.type_string() }}) as leading_bytes,
        cast(null as boolean) as is_read,
        cast(null as {{ dbt.type_string() }}) as reason
    where false
{%- endmacro %}

{% macro landed_files_relation() -%}
    {{ return(api.Relation.create(database=target.database, schema='staging', identifier='landed_files')) }}
{%- endmacro %}

{#- Hashing reads every byte, so a file keeps the hash of the previous inventory while its size
    and modification time are unchanged: a build hashes only new and changed files. -#}
{% macro duckdb__refresh_landed_files() -%}
    {%- if not execute -%}{{ return('select 1') }}{%- endif -%}
    {%- set root = waymark.data_dir() -%}
    {%- set contracts = waymark.landing_contracts() -%}
    {%- set folders = contracts | map(attribute='folder') | list -%}
    {%- set listed, to_hash, cached = [], [], {} -%}
    {%- set existing = load_relation(waymark.landed_files_relation()) -%}
    {%- set reused = [] -%}
    {%- set pattern = waymark.glob_literal(root) ~ '/**' -%}
    {%- set found = run_query("select count(*) from glob(" ~ waymark.string_literal(pattern) ~ ")") -%}
    {%- if found.rows[0][0] == 0 -%}
        {%- do log("waymark: no files under the data directory " ~ root, info=true) -%}
    {%- else -%}
        {%- set result = run_query(
            "select filename, size, epoch_us(last_modified) from read_blob("
            ~ waymark.string_literal(pattern) ~ ") order by filename") -%}
        {%- for filename, size, modified_us in result.rows -%}
            {%- if not filename.startswith(root ~ '/') -%}
                {{ exceptions.raise_compiler_error("Cannot name " ~ filename ~ " relative to the data directory " ~ root) }}
            {%- endif -%}
            {%- do listed.append((filename[root | length + 1:], size, modified_us)) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if existing is not none and not flags.FULL_REFRESH -%}
        {%- set kept = run_query(
            "select file_path, size_bytes, epoch_us(modified_at), content_hash, leading_bytes from "
            ~ existing ~ " where content_hash is not null") -%}
        {%- for row in kept.rows -%}
            {%- do cached.update({row[0] ~ '|' ~ row[1] ~ '|' ~ row[2]: (row[0], row[3], row[4])}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for path, size, modified_us in listed -%}
        {%- set key = path ~ '|' ~ size ~ '|' ~ modified_us -%}
        {%- if key in cached -%}
            {%- do reused.append(cached[key]) -%}
        {%- elif path.split('/') | length == 2 and path.split('/')[0] in folders -%}
            {%- do to_hash.append(path) -%}
        {%- endif -%}
    {%- endfor -%}

create schema if not exists staging;
create or replace table {{ waymark.landed_files_relation() }} as
with listed as (
    {%- if listed %}
    select * from (values
        {%- for path, size, modified_us in listed %}
        ({{ waymark.string_literal(path) }}, {{ size }}, {{ modified_us }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as listed (file_path, size_bytes, modified_us)
    {%- else %}
    select cast(null as varchar) as file_path, cast(null as bigint) as size_bytes,
        cast(null as bigint) as modified_us
    where false
    {%- endif %}
),

contracts as (
    select * from (values
        {%- for contract in contracts %}
        ({{ waymark.string_literal(contract.folder) }}, {{ waymark.string_literal(contract.label) }},
         {{ waymark.string_literal(contract.format) }},
         [{{ waymark.string_literals(contract.suffixes) }}],
         {{ waymark.string_literal('*' ~ contract.suffixes | join(', *')) }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as contracts (folder, source_name, file_format, suffixes, accepted_names)
),

hashed as (
    {%- if to_hash %}
    select
        substr(filename, {{ root | length + 2 }}) as file_path,
        {#- DuckDB's 64-bit hash: as fast as reading the bytes, where MD5 took four times as
            long. A DuckDB release that hashed differently would only read every file once more. #}
        lpad(hex(hash(content)), 16, '0') as content_hash,
        hex(content[1:4]) as leading_bytes
    from read_blob([
        {%- for path in to_hash %}
        {{ waymark.string_literal(waymark.landed_path(path)) }}{{ ',' if not loop.last }}
        {%- endfor %}
    ])
    {%- else %}
    select cast(null as varchar) as file_path, cast(null as varchar) as content_hash,
        cast(null as varchar) as leading_bytes
    where false
    {%- endif %}
    {%- if reused %}
    union all
    select * from (values
        {%- for path, content_hash, leading_bytes in reused %}
        ({{ waymark.string_literal(path) }}, {{ waymark.string_literal(content_hash) }}, {{ waymark.string_literal(leading_bytes) }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as reused (file_path, content_hash, leading_bytes)
    {%- endif %}
),

placed as (
    select
        listed.*,
        string_split(listed.file_path, '/') as parts
    from listed
),

classified as (
    select
        placed.file_path,
        contracts.source_name,
        contracts.file_format,
        placed.size_bytes,
        make_timestamp(placed.modified_us) as modified_at,
        hashed.content_hash,
        hashed.leading_bytes,
        case
            when len(placed.parts) = 1
                then 'not in a source folder: sources read <folder>/<file> (folders: '
                    || {{ waymark.string_literal(folders | join('/, ') ~ '/') }} || ')'
            {#- `_truth/` from `waymark generate`: kept beside the sources on purpose. #}
            when starts_with(placed.parts[1], '_')
                then 'in ' || placed.parts[1] || '/, a folder kept beside the sources (its name starts with _)'
            when contracts.folder is null
                then 'no source reads the folder ' || placed.parts[1] || '/'
                    || coalesce(' (did you mean ' || nearest.folder || '/?)', '')
            when len(placed.parts) > 2
                then 'in a sub-folder: ' || contracts.source_name || ' reads only the files directly in '
                    || contracts.folder || '/'
            when len(list_filter(contracts.suffixes, lambda suffix: ends_with(placed.parts[-1], suffix))) = 0
                then 'not a file name ' || contracts.source_name || ' reads: it accepts '
                    || contracts.accepted_names
            {#- The first bytes name what a file is whatever it is called (magic numbers). #}
            when starts_with(hashed.leading_bytes, '50415231')
                then 'is a Parquet file, not ' || upper(contracts.file_format) || ' text'
            when starts_with(hashed.leading_bytes, '504B0304')
                then 'is a ZIP archive (an Excel workbook is one), not ' || upper(contracts.file_format) || ' text'
            when starts_with(hashed.leading_bytes, 'FFFE') or starts_with(hashed.leading_bytes, 'FEFF')
                then 'is UTF-16 text (it starts with a UTF-16 byte-order mark); files are read as UTF-8'
            when ends_with(placed.file_path, '.gz') and hashed.leading_bytes <> ''
                and not starts_with(hashed.leading_bytes, '1F8B')
                then 'is named .gz but is not gzip-compressed'
            when not ends_with(placed.file_path, '.gz') and starts_with(hashed.leading_bytes, '1F8B')
                then 'is gzip-compressed but its name does not end in .gz'
        end as reason
    from placed
    left join contracts
        on len(placed.parts) > 1
        and contracts.folder = placed.parts[1]
    left join hashed
        on hashed.file_path = placed.file_path
    {#- A folder a typo away from a source folder (`order/`, `Orders/`) is probably meant as it. #}
    left join lateral (
        select arg_min(candidates.folder, levenshtein(lower(candidates.folder), lower(placed.parts[1]))) as folder
        from contracts as candidates
        where levenshtein(lower(candidates.folder), lower(placed.parts[1])) <= 2
    ) as nearest on true
)

select
    file_path,
    source_name,
    file_format,
    size_bytes,
    modified_at,
    content_hash,
    leading_bytes,
    reason is null as is_read,
    reason
from classified
order by file_path
{%- endmacro %}
