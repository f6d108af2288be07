{#- Consent changes: one row per consent record. -#}
with base as (
    select * from {{ ref('base_consent__records') }}
),

usable as (
    select
        consent_id,
        identifier_type,
        identifier_value,
        purpose,
        status,
        consent_source,
        recorded_at,
        _source_file
    from base
    where _quarantine_reason is null
      and identifier_value is not null
    qualify row_number() over (partition by consent_id order by _source_file desc) = 1
)

select * from usable
