{{ config(materialized="table") }}
{#- Every support ticket row as landed, typed and normalised, with `_quarantine_reason`. -#}
with source as (
    {{ waymark.read_landed_csv('support', 'tickets') }}
),

typed as (
    select
        nullif(trim(ticket_id), '') as ticket_id,
        lower(nullif(trim(channel), '')) as channel,
        nullif(trim(email), '') as email_raw,
        nullif(trim(phone), '') as phone_raw,
        {{ waymark.normalize_email('email') }} as email_normalized,
        {{ waymark.normalize_phone('phone') }} as phone_normalized,
        lower(nullif(trim(reason), '')) as reason,
        lower(nullif(trim(status), '')) as status,
        try_cast(nullif(trim(csat_score), '') as integer) as csat_score,
        lower(nullif(trim(sentiment), '')) as sentiment,
        {{ waymark.parse_utc_timestamp('created_at') }} as created_at,
        {{ waymark.parse_utc_timestamp('updated_at') }} as updated_at_parsed,
        {{ waymark.parse_utc_timestamp('solved_at') }} as solved_at,
        {{ waymark.raw_row_json(waymark.source_columns('support', 'tickets')) }} as _raw_row,
        _source_file
    from source
),

checked as (
    select
        ticket_id,
        channel,
        {{ waymark.clean_identifier('email', 'email_normalized') }} as email,
        {{ waymark.clean_identifier('phone', 'phone_normalized') }} as phone,
        reason,
        status,
        case when csat_score between 1 and 5 then csat_score end as csat_score,
        sentiment,
        created_at,
        coalesce(updated_at_parsed, created_at) as updated_at,
        solved_at,
        case
            when ticket_id is null then 'missing_key: ticket_id'
            when created_at is null then 'unparseable_timestamp: created_at'
        end as _quarantine_reason,
        {{ waymark.invalid_fields([
            ('email', 'email_raw', 'email_normalized'),
            ('phone', 'phone_raw', 'phone_normalized'),
        ]) }} as _invalid_fields,
        _raw_row,
        _source_file
    from typed
)

select * from checked
