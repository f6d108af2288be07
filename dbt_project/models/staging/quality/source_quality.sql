{{ config(materialized="table") }}
{#- Landed rows and what became of them: one row per source. `quarantined_share` is guarded by
    the test `assert_quarantine_share_below_threshold` (var `quarantine_max_share`). Lines the
    reader rejected are rows of the base models (with `_source_line`), so they count as landed. -#}
with quarantine as (
    select * from {{ ref('quarantine') }}
),

landed as (
    {%- for label, model, key in waymark.landed_base_models() %}
    select
        '{{ label }}' as source_name,
        count(*) as rows_landed,
        sum(case when _quarantine_reason is null and _timestamp_assumed_utc then 1 else 0 end)
            as timestamps_assumed_utc
    from {{ ref(model) }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

problems as (
    select
        source_name,
        sum(case when action = 'row_quarantined' then 1 else 0 end) as rows_quarantined,
        sum(case when action = 'malformed_row' then 1 else 0 end) as rows_malformed,
        sum(case when action = 'field_nulled' then 1 else 0 end) as fields_nulled,
        sum(case when action = 'file_not_read' then 1 else 0 end) as files_not_read
    from quarantine
    group by source_name
),

summary as (
    select
        landed.source_name,
        landed.rows_landed,
        landed.rows_landed - coalesce(problems.rows_quarantined, 0) - coalesce(problems.rows_malformed, 0)
            as rows_usable,
        coalesce(problems.rows_quarantined, 0) as rows_quarantined,
        coalesce(problems.rows_malformed, 0) as rows_malformed,
        coalesce(problems.fields_nulled, 0) as fields_nulled,
        coalesce(problems.files_not_read, 0) as files_not_read,
        coalesce(landed.timestamps_assumed_utc, 0) as timestamps_assumed_utc,
        case
            when landed.rows_landed = 0 then 0.0
            else (coalesce(problems.rows_quarantined, 0) + coalesce(problems.rows_malformed, 0)) * 1.0
                / landed.rows_landed
        end as quarantined_share
    from landed
    left join problems on landed.source_name = problems.source_name
)

select * from summary
