{#- The customer 360: one row per customer known as of as_of, with the golden record, order
    totals and RFM, recent engagement, support, consent and current lifecycle stage. -#}
{%- set purposes = ['email_marketing', 'sms_marketing', 'ads_personalisation'] -%}

with customer_base as (
    select * from {{ ref('int_customer_base') }}
),

golden_records as (
    select * from {{ ref('int_customer_golden_records') }}
),

rfm as (
    select * from {{ ref('int_customer_rfm') }}
),

engagement as (
    select * from {{ ref('int_customer_engagement') }}
),

tickets as (
    select * from {{ ref('int_customer_tickets') }}
),

feedback as (
    select * from {{ ref('int_customer_feedback') }}
),

consent_latest as (
    select * from {{ ref('int_consent_latest') }}
),

lifecycle_stage_history as (
    select * from {{ ref('lifecycle_stage_history') }}
),

ticket_summary as (
    select
        customer_id,
        count(case when is_open then 1 end) as open_tickets
    from tickets
    group by customer_id
),

latest_feedback_per_type as (
    select *
    from feedback
    qualify row_number() over (
        partition by customer_id, feedback_type order by responded_at desc, feedback_id desc
    ) = 1
),

latest_feedback as (
    select
        customer_id,
        max(case when feedback_type = 'csat' then score end) as last_csat_score,
        max(case when feedback_type = 'nps' then score end) as last_nps_score
    from latest_feedback_per_type
    group by customer_id
),

consent_by_purpose as (
    select
        customer_id,
        {%- for purpose in purposes %}
        max(case when purpose = '{{ purpose }}' then status end) as {{ purpose }}_status{{ ',' if not loop.last }}
        {%- endfor %}
    from consent_latest
    group by customer_id
),

current_stage as (
    select
        customer_id,
        stage as lifecycle_stage,
        valid_from as lifecycle_stage_since
    from lifecycle_stage_history
    where valid_to is null
),

joined as (
    select
        customer_base.customer_id,
        golden_records.first_name,
        golden_records.last_name,
        golden_records.email,
        golden_records.phone,
        golden_records.country,
        golden_records.timezone,
        current_stage.lifecycle_stage,
        rfm.rfm_segment,
        {%- for purpose in purposes %}
        coalesce(consent_by_purpose.{{ purpose }}_status, 'unknown') as {{ purpose }}_consent,
        {%- endfor %}
        coalesce(rfm.order_count, 0) as order_count,
        coalesce(rfm.revenue, cast(0 as decimal(18, 2))) as revenue,
        cast(round(rfm.revenue / rfm.order_count, 2) as decimal(18, 2)) as average_order_value,
        rfm.recency_days,
        rfm.frequency,
        rfm.monetary,
        rfm.r_score,
        rfm.f_score,
        rfm.m_score,
        {{ dbt.datediff('customer_base.last_seen_at', waymark.as_of(), 'day') }} as days_since_last_activity,
        coalesce(engagement.email_delivered_90d, 0) as email_delivered_90d,
        coalesce(engagement.email_opened_90d, 0) as email_opened_90d,
        coalesce(engagement.email_clicked_90d, 0) as email_clicked_90d,
        coalesce(engagement.sms_delivered_90d, 0) as sms_delivered_90d,
        coalesce(engagement.sms_clicked_90d, 0) as sms_clicked_90d,
        coalesce(engagement.web_sessions_30d, 0) as web_sessions_30d,
        coalesce(engagement.web_events_30d, 0) as web_events_30d,
        coalesce(ticket_summary.open_tickets, 0) as open_tickets,
        latest_feedback.last_csat_score,
        latest_feedback.last_nps_score,
        customer_base.first_seen_at,
        customer_base.last_seen_at,
        rfm.first_order_at,
        rfm.last_order_at,
        current_stage.lifecycle_stage_since
    from customer_base
    left join golden_records on customer_base.customer_id = golden_records.customer_id
    left join rfm on customer_base.customer_id = rfm.customer_id
    left join engagement on customer_base.customer_id = engagement.customer_id
    left join ticket_summary on customer_base.customer_id = ticket_summary.customer_id
    left join latest_feedback on customer_base.customer_id = latest_feedback.customer_id
    left join consent_by_purpose on customer_base.customer_id = consent_by_purpose.customer_id
    left join current_stage on customer_base.customer_id = current_stage.customer_id
),

reachable_interactions as (
    select
        *,
        case when email_marketing_consent in ('denied', 'revoked') then 0
            else email_opened_90d + email_clicked_90d end as email_interactions,
        case when sms_marketing_consent in ('denied', 'revoked') then 0
            else sms_clicked_90d end as sms_interactions
    from joined
),

final as (
    select
        customer_id,
        first_name,
        last_name,
        email,
        phone,
        country,
        timezone,
        lifecycle_stage,
        rfm_segment,
        {#- preferred_channel: the reachable channel with the most customer-initiated interactions
            (email: opens + clicks in 90 days; sms: clicks in 90 days; web: sessions in 30 days).
            Email and SMS are unreachable when their marketing consent is denied or revoked.
            Ties go to email, then sms, then web; null when there was no interaction. #}
        case
            when greatest(email_interactions, sms_interactions, web_sessions_30d) = 0 then null
            when email_interactions >= sms_interactions and email_interactions >= web_sessions_30d then 'email'
            when sms_interactions >= web_sessions_30d then 'sms'
            else 'web'
        end as preferred_channel,
        email_marketing_consent,
        sms_marketing_consent,
        ads_personalisation_consent,
        order_count,
        revenue,
        average_order_value,
        recency_days,
        frequency,
        monetary,
        r_score,
        f_score,
        m_score,
        days_since_last_activity,
        email_delivered_90d,
        email_opened_90d,
        email_clicked_90d,
        sms_delivered_90d,
        sms_clicked_90d,
        web_sessions_30d,
        web_events_30d,
        open_tickets,
        last_csat_score,
        last_nps_score,
        email_marketing_consent in ('denied', 'revoked') as is_email_suppressed,
        sms_marketing_consent in ('denied', 'revoked') as is_sms_suppressed,
        first_seen_at,
        last_seen_at,
        first_order_at,
        last_order_at,
        lifecycle_stage_since
    from reachable_interactions
)

select * from final
