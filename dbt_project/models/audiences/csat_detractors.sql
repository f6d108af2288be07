{#- Customers whose latest CSAT answer is at most audience_rules.detractor_max_csat or latest NPS
    answer at most audience_rules.detractor_max_nps, given in the last
    audience_rules.detractor_window_days days: one row per customer, qualified at the earliest
    such answer. -#}
{%- set rules = var('audience_rules') -%}

with feedback as (
    select * from {{ ref('int_customer_feedback') }}
),

latest_answers as (
    select *
    from feedback
    qualify row_number() over (
        partition by customer_id, feedback_type order by responded_at desc, feedback_id desc
    ) = 1
),

detracting_answers as (
    select *
    from latest_answers
    where responded_at > {{ dbt.dateadd('day', -1 * rules.detractor_window_days, waymark.as_of()) }}
      and (
          (feedback_type = 'csat' and score <= {{ rules.detractor_max_csat }})
          or (feedback_type = 'nps' and score <= {{ rules.detractor_max_nps }})
      )
),

detractors as (
    select
        customer_id,
        min(responded_at) as qualified_at,
        max(case when feedback_type = 'csat' then score end) as detracting_csat_score,
        max(case when feedback_type = 'nps' then score end) as detracting_nps_score
    from detracting_answers
    group by customer_id
)

select * from detractors
