{#- Every usable CRM export row: one row per contact per export (all versions, for identity evidence). -#}
with base as (
    select * from {{ ref('base_crm__contacts') }}
),

usable as (
    select
        crm_contact_id,
        email,
        phone,
        first_name,
        last_name,
        company,
        owner,
        country,
        created_at,
        updated_at,
        _source_file
    from base
    where _quarantine_reason is null
)

select * from usable
