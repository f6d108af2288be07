{#- The membership history rule (macros/audiences.sql audience_history_sql) on fixed fixtures,
    relative to as_of (A); the previous build ran at A - 10 days:
      stayer     open since A-29, still qualifies              -> unchanged, open
      leaver     open since A-29, no longer qualifies          -> exited at A
      closed     A-60 .. A-45                                  -> carried over
      rejoiner   A-60 .. A-20, qualifies again (q = A-25)      -> old row kept, new row entered A
      newcomer   qualifies since A-5 (after the previous build) -> entered A-5
    and building again at A changes nothing; a first build enters everyone at qualified_at. -#}
{%- set a = waymark.as_of() -%}
{%- set day = {} -%}
{%- for n in [-60, -45, -29, -25, -20, -10, -5] -%}{%- do day.update({n: dbt.dateadd('day', n, a)}) -%}{%- endfor -%}
{%- set ts = dbt.type_timestamp() -%}
{%- set str = dbt.type_string() -%}

{#- The fixtures need no model; the dependency makes this test a check on the audiences'
    membership history, run after it is built (tests/_singular_tests.yml). #}
-- depends_on: {{ ref('audience_memberships') }}
with previous_history as (
    select cast('stayer' as {{ str }}) as customer_id, {{ day[-29] }} as entered_at, cast(null as {{ ts }}) as exited_at, {{ day[-29] }} as qualified_at, {{ day[-10] }} as evaluated_as_of
    union all select 'leaver', {{ day[-29] }}, null, {{ day[-29] }}, {{ day[-10] }}
    union all select 'closed', {{ day[-60] }}, {{ day[-45] }}, {{ day[-60] }}, {{ day[-10] }}
    union all select 'rejoiner', {{ day[-60] }}, {{ day[-20] }}, {{ day[-60] }}, {{ day[-10] }}
),

current_members as (
    select cast('stayer' as {{ str }}) as customer_id, {{ day[-29] }} as qualified_at
    union all select 'rejoiner', {{ day[-25] }}
    union all select 'newcomer', {{ day[-5] }}
),

expected as (
    select cast('stayer' as {{ str }}) as customer_id, {{ day[-29] }} as entered_at, cast(null as {{ ts }}) as exited_at
    union all select 'leaver', {{ day[-29] }}, {{ a }}
    union all select 'closed', {{ day[-60] }}, {{ day[-45] }}
    union all select 'rejoiner', {{ day[-60] }}, {{ day[-20] }}
    union all select 'rejoiner', {{ a }}, null
    union all select 'newcomer', {{ day[-5] }}, null
),

expected_first_build as (
    select cast('stayer' as {{ str }}) as customer_id, {{ day[-29] }} as entered_at, cast(null as {{ ts }}) as exited_at
    union all select 'rejoiner', {{ day[-25] }}, null
    union all select 'newcomer', {{ day[-5] }}, null
),

next_history as (
    select * from ({{ waymark.audience_history_sql('fixture', 'current_members', 'previous_history') }}) as next_version
),

rebuilt_history as (
    select * from ({{ waymark.audience_history_sql('fixture', 'current_members', 'next_history') }}) as rebuilt_version
),

first_build as (
    select * from ({{ waymark.audience_history_sql('fixture', 'current_members', none) }}) as first_version
),

next_rows as (
    select customer_id, entered_at, exited_at from next_history
),

rebuilt_rows as (
    select customer_id, entered_at, exited_at from rebuilt_history
),

first_rows as (
    select customer_id, entered_at, exited_at from first_build
),

differences as (
    (select 'missing' as problem, * from expected except select 'missing', * from next_rows)
    union all
    (select 'unexpected', * from next_rows except select 'unexpected', * from expected)
    union all
    (select 'not idempotent', * from rebuilt_rows except select 'not idempotent', * from next_rows)
    union all
    (select 'not idempotent', * from next_rows except select 'not idempotent', * from rebuilt_rows)
    union all
    (select 'first build', * from expected_first_build except select 'first build', * from first_rows)
    union all
    (select 'first build', * from first_rows except select 'first build', * from expected_first_build)
)

select * from differences
