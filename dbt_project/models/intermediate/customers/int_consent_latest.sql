{#- The standing consent decision per customer and purpose as of as_of: one row per
    (customer_id, purpose). Decisions are consent records on any of the customer's identifiers,
    plus messaging suppressions: an unsubscribe, complaint or hard bounce revokes email_marketing
    (email) or sms_marketing (sms). The latest decision wins; at the same instant a refusal
    (revoked, denied) beats a grant. Purposes with no decision are absent (= unknown). -#}
with consent_records as (
    select * from {{ ref('stg_consent__records') }}
),

engagement as (
    select * from {{ ref('stg_messaging__engagement') }}
),

customer_identifiers as (
    select * from {{ ref('customer_identifiers') }}
),

recorded_decisions as (
    select
        'consent:' || consent_records.consent_id as decision_id,
        customer_identifiers.customer_id,
        consent_records.purpose,
        consent_records.status,
        'consent_record' as decided_by,
        consent_records.consent_source as decision_source,
        consent_records.recorded_at as decided_at
    from consent_records
    inner join customer_identifiers
        on consent_records.identifier_type = customer_identifiers.identifier_type
        and consent_records.identifier_value = customer_identifiers.identifier_value
),

suppressions as (
    select
        'engagement:' || engagement.engagement_id as decision_id,
        customer_identifiers.customer_id,
        case engagement.channel when 'email' then 'email_marketing' else 'sms_marketing' end as purpose,
        'revoked' as status,
        'messaging_suppression' as decided_by,
        engagement.channel || '_' || engagement.event_type as decision_source,
        engagement.occurred_at as decided_at
    from engagement
    inner join customer_identifiers
        on customer_identifiers.identifier_type = case engagement.channel when 'email' then 'email' else 'phone' end
        and customer_identifiers.identifier_value = coalesce(engagement.email, engagement.phone)
    where engagement.event_type in ('unsubscribed', 'complained')
       or (engagement.event_type = 'bounced' and engagement.bounce_type = 'hard')
),

decisions as (
    select * from recorded_decisions
    union all
    select * from suppressions
),

latest as (
    select *
    from decisions
    where decided_at <= {{ waymark.as_of() }}
    qualify row_number() over (
        partition by customer_id, purpose
        order by decided_at desc, case when status = 'granted' then 1 else 0 end, decision_id
    ) = 1
)

select * from latest
