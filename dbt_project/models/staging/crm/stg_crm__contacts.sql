{#- The current version of each CRM contact: one row per contact (latest `updated_at` wins). -#}
with versions as (
    select * from {{ ref('stg_crm__contact_versions') }}
),

latest as (
    select *
    from versions
    qualify row_number() over (
        partition by crm_contact_id order by updated_at desc, _source_file desc
    ) = 1
)

select * from latest
