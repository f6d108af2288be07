"""Consent and suppression, decided in SQL for every row on its way to a destination.

A row is dropped, with the reason recorded, when any of these holds (first match wins):

0. `deleted:erasure_request` - the customer asked to be erased (`activations.erasure`): nothing
   goes anywhere for them again, whatever the purpose or `as_of`;
1. `suppressed:hard_bounced` - the customer's current address on a checked channel hard-bounced:
   it does not exist, so nothing goes there, transactional messages included;
2. `suppressed:complained` - the customer marked a message on a checked channel as spam: no
   marketing there again (transactional messages still go);
3. for marketing purposes, the purpose's consent column of `marts.customers` is not `granted`:
   `suppressed:unsubscribed` when the customer unsubscribed on that channel, otherwise
   `no_consent:<denied|revoked|unknown>`, or `no_consent:unknown_customer` when the row's
   customer is not in `marts.customers`.

Checked channels: the channel of the purpose (`email_marketing` -> email, `sms_marketing` ->
sms) and the destination's channel when it is email or sms. Suppressions come from
`staging.stg_messaging__engagement` matched on the customer's current golden email or phone, up
to `as_of`: an address the customer has since replaced does not suppress the new one.
"""

from __future__ import annotations

CUSTOMERS = "marts.customers"
ENGAGEMENT = "staging.stg_messaging__engagement"
ERASURE_REASON = "deleted:erasure_request"
NO_ERASURES = "(select cast(null as varchar) as customer_id where false)"

PURPOSE_CHANNEL_SQL = (
    "case {purpose} when 'email_marketing' then 'email' when 'sms_marketing' then 'sms' end"
)


def decided_sql(rows: str, *, require_recipient: bool = False, erased: str = NO_ERASURES) -> str:
    """A query over the relation or CTE `rows` (columns `customer_id`, `purpose`, `channel`,
    and anything else) adding `drop_reason` (null = send) and `recipient` (the customer's
    current email or phone for the row's channel). Takes one parameter: `as_of`.

    With `require_recipient` (messages), an email or SMS without an address is dropped as
    `no_address` rather than sent and refused. `erased` is a subquery of the `customer_id`s
    erasure requests name (`activations.erasure.erased_customers_sql`)."""
    no_address = (
        "when channel in ('email', 'sms') and recipient is null then 'no_address'"
        if require_recipient
        else ""
    )
    purpose_channel = PURPOSE_CHANNEL_SQL.format(purpose="rows.purpose")
    return f"""
    with erased_customers as (
        select distinct customer_id from {erased} as erased where customer_id is not null
    ),

    suppression_events as (
        select
            customers.customer_id,
            engagement.channel,
            bool_or(engagement.event_type = 'bounced' and engagement.bounce_type = 'hard')
                as hard_bounced,
            bool_or(engagement.event_type = 'complained') as complained,
            bool_or(engagement.event_type = 'unsubscribed') as unsubscribed
        from {CUSTOMERS} as customers
        inner join {ENGAGEMENT} as engagement
            on (engagement.channel = 'email' and engagement.email = customers.email)
            or (engagement.channel = 'sms' and engagement.phone = customers.phone)
        where engagement.occurred_at <= cast(? as timestamp)
            and engagement.event_type in ('bounced', 'complained', 'unsubscribed')
        group by all
    ),

    checked as (
        select
            rows.*,
            {purpose_channel} as purpose_channel,
            customers.customer_id is not null as is_known_customer,
            erased_customers.customer_id is not null as is_erased,
            case rows.purpose
                when 'email_marketing' then customers.email_marketing_consent
                when 'sms_marketing' then customers.sms_marketing_consent
                when 'ads_personalisation' then customers.ads_personalisation_consent
            end as consent_status,
            case rows.channel when 'email' then customers.email when 'sms' then customers.phone
            end as recipient
        from {rows} as rows
        left join {CUSTOMERS} as customers on customers.customer_id = rows.customer_id
        left join erased_customers on erased_customers.customer_id = rows.customer_id
    ),

    flagged as (
        select
            checked.*,
            coalesce(by_purpose.hard_bounced, false)
                or coalesce(by_destination.hard_bounced, false) as hard_bounced,
            coalesce(by_purpose.complained, false)
                or coalesce(by_destination.complained, false) as complained,
            coalesce(by_purpose.unsubscribed, false) as unsubscribed
        from checked
        left join suppression_events as by_purpose
            on by_purpose.customer_id = checked.customer_id
            and by_purpose.channel = checked.purpose_channel
        left join suppression_events as by_destination
            on by_destination.customer_id = checked.customer_id
            and by_destination.channel = checked.channel
    )

    select
        * exclude (purpose_channel, is_known_customer, is_erased, consent_status, hard_bounced,
            complained, unsubscribed),
        case
            when is_erased then '{ERASURE_REASON}'
            {no_address}
            when hard_bounced then 'suppressed:hard_bounced'
            when purpose = 'transactional' then null
            when complained then 'suppressed:complained'
            when not is_known_customer then 'no_consent:unknown_customer'
            when consent_status = 'granted' then null
            when unsubscribed then 'suppressed:unsubscribed'
            else 'no_consent:' || coalesce(consent_status, 'unknown')
        end as drop_reason
    from flagged
    """
