{#- Ad clicks: one row per click id. -#}
with base as (
    select * from {{ ref('base_ads__ad_clicks') }}
),

usable as (
    select
        click_id,
        platform,
        campaign_id,
        campaign_name,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_content,
        utm_term,
        landing_anonymous_id,
        landing_url,
        clicked_at,
        _source_file
    from base
    where _quarantine_reason is null
    qualify row_number() over (partition by click_id order by clicked_at) = 1
)

select * from usable
