{#- Audiences and their membership history.

    An audience is any model whose yml declares
        config: {materialized: audience, meta: {audience: {name, description, refresh}}}
    and outputs one row per qualifying customer with `customer_id` and `qualified_at`. Models
    under models/audiences/ have enforced contracts (dbt_project.yml): their yml gives every
    column's `data_type`.

    The `audience` materialization builds the model like a table, then, in the same node,
    rewrites the audience's membership history `<schema>.<model>__memberships` from its previous
    version and the members just built (`audience_history_sql`). `marts.audience_memberships` is a
    view over the history tables of every model with `meta.audience`, found in dbt's graph when
    it runs. Because each audience records its own history as it is built, the memberships view
    is correct whatever order `dbt build` runs nodes in, and adding an audience needs no list to
    be edited anywhere (dbt cannot ref models discovered at execute time in the DAG). -#}

{#- Every enabled model declaring meta.audience, sorted by name (execute time only). -#}
{% macro audience_nodes() -%}
    {%- set nodes = [] -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and (node.config.meta or {}).get('audience') -%}
                {%- do nodes.append(node) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(nodes | sort(attribute='name')) }}
{%- endmacro %}

{% macro audience_name(meta, model_name) -%}
    {{ return((meta.get('audience') or {}).get('name') or model_name) }}
{%- endmacro %}

{#- The history table that sits beside an audience relation. -#}
{% macro audience_history_relation(database, schema, identifier) -%}
    {{ return(api.Relation.create(database=database, schema=schema,
                                  identifier=identifier ~ '__memberships', type='table')) }}
{%- endmacro %}

{% macro audience_history_columns() -%}
    {{ return([
        ('audience_name', dbt.type_string()), ('customer_id', dbt.type_string()),
        ('entered_at', dbt.type_timestamp()), ('exited_at', dbt.type_timestamp()),
        ('qualified_at', dbt.type_timestamp()), ('evaluated_as_of', dbt.type_timestamp()),
    ]) }}
{%- endmacro %}

{#- The next version of one audience's membership history, as a select.
    `current_members`: the audience's rows now (customer_id, qualified_at).
    `previous_history`: the history as last written, or none on the first build.
    Rules, at as_of:
      - closed rows are carried over unchanged;
      - an open row whose customer still qualifies stays open (qualified_at refreshed);
      - an open row whose customer no longer qualifies closes with exited_at = as_of;
      - a qualifying customer without an open row opens a new row, entered_at = qualified_at
        when that is after the previous build's as_of (or the history is still empty), else
        as_of. A customer who left and comes back therefore gets a second row.
    Building again at the same as_of reproduces the same rows. A build at an earlier as_of than
    the previous one first forgets what happened after it (rows entered later are dropped,
    rows exited later reopen). -#}
{% macro audience_history_sql(audience_name, current_members, previous_history) -%}
    {%- set as_of = waymark.as_of() -%}
    with current_members as (
        select customer_id, max(qualified_at) as qualified_at
        from {{ current_members }}
        group by customer_id
    ),

    previous_rows as (
        {%- if previous_history is not none %}
        select customer_id, entered_at, exited_at, qualified_at, evaluated_as_of
        from {{ previous_history }}
        {%- else %}
        select
            {%- for name, data_type in waymark.audience_history_columns() if name != 'audience_name' %}
            cast(null as {{ data_type }}) as {{ name }}{{ ',' if not loop.last }}
            {%- endfor %}
        where 1 = 0
        {%- endif %}
    ),

    previous_build as (
        select case when max(evaluated_as_of) is not null
            then least(max(evaluated_as_of), {{ as_of }}) end as previous_as_of
        from previous_rows
    ),

    rewound as (
        select
            customer_id,
            entered_at,
            case when exited_at > {{ as_of }} then null else exited_at end as exited_at,
            qualified_at
        from previous_rows
        where entered_at <= {{ as_of }}
    ),

    carried_closed as (
        select customer_id, entered_at, exited_at, qualified_at
        from rewound
        where exited_at is not null
    ),

    open_rows as (
        select customer_id, entered_at, qualified_at
        from rewound
        where exited_at is null
    ),

    staying_or_leaving as (
        select
            open_rows.customer_id,
            open_rows.entered_at,
            case when current_members.customer_id is null then {{ as_of }} end as exited_at,
            coalesce(current_members.qualified_at, open_rows.qualified_at) as qualified_at
        from open_rows
        left join current_members on open_rows.customer_id = current_members.customer_id
    ),

    entering as (
        select
            current_members.customer_id,
            case
                when previous_build.previous_as_of is null then coalesce(current_members.qualified_at, {{ as_of }})
                when current_members.qualified_at > previous_build.previous_as_of then current_members.qualified_at
                else {{ as_of }}
            end as entered_at,
            cast(null as {{ dbt.type_timestamp() }}) as exited_at,
            current_members.qualified_at
        from current_members
        cross join previous_build
        left join open_rows on current_members.customer_id = open_rows.customer_id
        where open_rows.customer_id is null
    ),

    memberships as (
        select * from carried_closed
        union all
        select * from staying_or_leaving
        union all
        select * from entering
    )

    select
        cast('{{ audience_name }}' as {{ dbt.type_string() }}) as audience_name,
        customer_id,
        entered_at,
        exited_at,
        qualified_at,
        {{ as_of }} as evaluated_as_of
    from memberships
    where exited_at is null or exited_at > entered_at
{%- endmacro %}

{#- Rewrites the history table of the audience just built into `audience_relation`. The
    history table is created empty first if missing, so the next version can always read it. -#}
{% macro record_audience_history(audience_relation) -%}
    {%- set meta = config.get('meta') or {} -%}
    {%- if not meta.get('audience') -%}
        {{ exceptions.raise_compiler_error("Model " ~ model.name ~ " is materialized as an audience but its yml has no config.meta.audience {name, description, refresh}.") }}
    {%- endif -%}
    {%- set column_names = adapter.get_columns_in_relation(audience_relation) | map(attribute='name') | map('lower') | list -%}
    {%- for required in ['customer_id', 'qualified_at'] if required not in column_names -%}
        {{ exceptions.raise_compiler_error("Audience " ~ model.name ~ " must output a `" ~ required ~ "` column.") }}
    {%- endfor -%}
    {%- set history = waymark.audience_history_relation(audience_relation.database, audience_relation.schema, audience_relation.identifier) -%}
    {%- call statement('audience_history_table') -%}
        {{ waymark.create_audience_history_table(history) }}
    {%- endcall -%}
    {%- do waymark.replace_audience_history(history, waymark.audience_history_sql(
            waymark.audience_name(meta, model.name), audience_relation, history)) -%}
    {%- do adapter.commit() -%}
{%- endmacro %}

{% macro create_audience_history_table(history) -%}
    create table if not exists {{ history }} (
        {%- for name, data_type in waymark.audience_history_columns() %}
        {{ name }} {{ data_type }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{#- Replaces `history` with the result of `history_sql`, which reads `history` itself. -#}
{% macro replace_audience_history(history, history_sql) -%}
    {{ return(adapter.dispatch('replace_audience_history', 'waymark')(history, history_sql)) }}
{%- endmacro %}

{% macro default__replace_audience_history(history, history_sql) -%}
    {%- set next_version = api.Relation.create(database=history.database, schema=history.schema,
                                               identifier=history.identifier ~ '__next', type='table') -%}
    {%- do adapter.drop_relation(next_version) -%}
    {%- call statement('audience_history_next') -%}
        create table {{ next_version }} as {{ history_sql }}
    {%- endcall -%}
    {%- do adapter.drop_relation(history) -%}
    {%- do adapter.rename_relation(next_version, history) -%}
{%- endmacro %}

{#- DuckDB replaces a table from a query over itself in one atomic statement. -#}
{% macro duckdb__replace_audience_history(history, history_sql) -%}
    {%- call statement('audience_history_replace') -%}
        create or replace table {{ history }} as {{ history_sql }}
    {%- endcall -%}
{%- endmacro %}

{#- SQL that creates an empty history table for every audience that has none yet, so the
    memberships view can be created before (or without) the audiences being built. Used as the
    view's pre-hook; best also run from `on-run-start`, before any node, so that a brand-new
    audience's first build can never race the view to create the same table. -#}
{% macro ensure_audience_histories() -%}
    {{ return(adapter.dispatch('ensure_audience_histories', 'waymark')()) }}
{%- endmacro %}

{% macro default__ensure_audience_histories() -%}
    {%- for node in waymark.audience_nodes() -%}
        {%- set history = waymark.audience_history_relation(node.database, node.schema, node.alias) -%}
        {%- do adapter.create_schema(history) -%}
        {%- do run_query(waymark.create_audience_history_table(history)) -%}
    {%- endfor -%}
    select 1 as audience_histories_ready
{%- endmacro %}

{% macro duckdb__ensure_audience_histories() -%}
    {%- for node in waymark.audience_nodes() -%}
    {%- set history = waymark.audience_history_relation(node.database, node.schema, node.alias) %}
    create schema if not exists {{ history.without_identifier() }};
    {{ waymark.create_audience_history_table(history) }};
    {%- endfor %}
    select 1 as audience_histories_ready
{%- endmacro %}

{#- Checks that every audience declares the audience materialization and a unique name. -#}
{% macro validate_audience_nodes(nodes) -%}
    {%- set names = [] -%}
    {%- for node in nodes -%}
        {%- set name = waymark.audience_name(node.config.meta, node.name) -%}
        {%- if node.config.materialized != 'audience' -%}
            {{ exceptions.raise_compiler_error("Model " ~ node.name ~ " declares meta.audience but is materialized as '" ~ node.config.materialized ~ "': set `materialized: audience` so its membership history is recorded.") }}
        {%- endif -%}
        {%- if name in names -%}
            {{ exceptions.raise_compiler_error("Two audience models share the audience name '" ~ name ~ "'.") }}
        {%- endif -%}
        {%- do names.append(name) -%}
    {%- endfor -%}
{%- endmacro %}

{#- The audience materialization: a table, then its membership history. Skipped under
    `--empty`, which would otherwise close every membership. -#}
{% macro audience_after_build(relations) -%}
    {%- if not flags.EMPTY -%}
        {%- do waymark.record_audience_history(this.incorporate(type='table')) -%}
    {%- endif -%}
    {{ return(relations) }}
{%- endmacro %}

{% materialization audience, adapter='duckdb' %}
    {%- set relations = materialization_table_duckdb() -%}
    {{ return(waymark.audience_after_build(relations)) }}
{% endmaterialization %}

{% materialization audience, adapter='spark' %}
    {%- set relations = materialization_table_spark() -%}
    {{ return(waymark.audience_after_build(relations)) }}
{% endmaterialization %}

{% materialization audience, default %}
    {%- set relations = materialization_table_default() -%}
    {{ return(waymark.audience_after_build(relations)) }}
{% endmaterialization %}

{#- Fails for every row whose `column_name` is later than as_of (audience qualified_at). -#}
{% test not_after_as_of(model, column_name) %}
    select *
    from {{ model }}
    where {{ column_name }} > {{ waymark.as_of() }}
{% endtest %}
