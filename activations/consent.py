"""Consent and suppression, decided in SQL for every row on its way to a destination.

A row is dropped, with the reason recorded, when any of these holds (first match wins):

0. `deleted:erasure_request` - an erasure request covers the customer (`waymark.core.erasure`: the
   id it names, whoever holds an identifier the erased customer held, every id the history maps
   those to): nothing goes anywhere for them again, whatever the purpose or `as_of`;
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

from waymark.core.erasure import CUSTOMERS, ERASURE_REASON

ENGAGEMENT = "staging.stg_messaging__engagement"
NO_ERASURES = "(select cast(null as varchar) as customer_id where false)"

PURPOSE_CHANNEL_SQL = (
    "case {purpose} when 'email_marketing' then 'email' when 'sms_marketing' then 'sms' end"
)


CUSTOMER_COLUMNS = (
    "email",
    "phone",
    "email_marketing_consent",
    "sms_marketing_consent",
    "ads_personalisation_consent",
)
"""The columns of `marts.customers` the decision reads; a caller that joined the customers
already passes them as `_customer_<column>` with `_customer_known`."""


def customer_columns_sql(alias: str = "customers") -> str:
    """The select list a caller adds when it joins `marts.customers` itself (`customers_joined`)."""
    columns = [f"{alias}.customer_id is not null as _customer_known"]
    columns += [f"{alias}.{column} as _customer_{column}" for column in CUSTOMER_COLUMNS]
    return ", ".join(columns)


def decided_sql(
    rows: str,
    *,
    require_recipient: bool = False,
    erased: str = NO_ERASURES,
    customers_joined: bool = False,
) -> str:
    """A query over the relation or CTE `rows` (columns `customer_id`, `purpose`, `channel`,
    and anything else) adding `drop_reason` (null = send) and `recipient` (the customer's
    current email or phone for the row's channel). Takes one parameter: `as_of`.

    With `require_recipient` (messages), an email or SMS without an address is dropped as
    `no_address` rather than sent and refused. `erased` is a subquery of the `customer_id`s
    erasure requests cover (`waymark.core.erasure.erased_customers_sql`). With
    `customers_joined`, `rows` carries the customer's columns (`customer_columns_sql`), which
    saves joining a large model to the customers twice."""
    no_address = (
        "when channel in ('email', 'sms') and recipient is null then 'no_address'"
        if require_recipient
        else ""
    )
    purpose_channel = PURPOSE_CHANNEL_SQL.format(purpose="rows.purpose")
    if customers_joined:
        source, known = f"{rows} as rows", "rows._customer_known"
        column = "rows._customer_{}".format
        hidden = ", ".join(["_customer_known", *(f"_customer_{c}" for c in CUSTOMER_COLUMNS)])
        selected = f"rows.* exclude ({hidden})"
    else:
        source = (
            f"{rows} as rows left join {CUSTOMERS} as customers "
            "on customers.customer_id = rows.customer_id"
        )
        known, selected = "customers.customer_id is not null", "rows.*"
        column = "customers.{}".format
    return f"""
    with erased_customers as (
        select distinct customer_id from {erased} as erased where customer_id is not null
    ),

    engagement as (
        select * from {ENGAGEMENT}
        where occurred_at <= cast(? as timestamp)
            and event_type in ('bounced', 'complained', 'unsubscribed')
    ),

    -- Two equality joins rather than one join on (email or phone): a disjunction would make
    -- the engine compare every customer with every event.
    matched_events as (
        select customers.customer_id, engagement.*
        from {CUSTOMERS} as customers
        inner join engagement
            on engagement.channel = 'email' and engagement.email = customers.email
        union all
        select customers.customer_id, engagement.*
        from {CUSTOMERS} as customers
        inner join engagement
            on engagement.channel = 'sms' and engagement.phone = customers.phone
    ),

    suppression_events as (
        select
            customer_id,
            channel,
            bool_or(event_type = 'bounced' and bounce_type = 'hard') as hard_bounced,
            bool_or(event_type = 'complained') as complained,
            bool_or(event_type = 'unsubscribed') as unsubscribed
        from matched_events
        group by all
    ),

    checked as (
        select
            {selected},
            {purpose_channel} as purpose_channel,
            {known} as is_known_customer,
            erased_customers.customer_id is not null as is_erased,
            case rows.purpose
                when 'email_marketing' then {column("email_marketing_consent")}
                when 'sms_marketing' then {column("sms_marketing_consent")}
                when 'ads_personalisation' then {column("ads_personalisation_consent")}
            end as consent_status,
            case rows.channel when 'email' then {column("email")}
                when 'sms' then {column("phone")}
            end as recipient
        from {source}
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
