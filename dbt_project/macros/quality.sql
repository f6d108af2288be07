{#- The base models that read landed files: (source label, base model, record key column). -#}
{% macro landed_base_models() -%}
    {{ return([
        ('events.segment_events', 'base_events__segment', 'event_id'),
        ('crm.contacts', 'base_crm__contacts', 'crm_contact_id'),
        ('shop.orders', 'base_shop__orders', 'order_id'),
        ('shop.order_items', 'base_shop__order_items', 'order_id'),
        ('support.tickets', 'base_support__tickets', 'ticket_id'),
        ('support.calls', 'base_support__calls', 'call_id'),
        ('messaging.engagement', 'base_messaging__engagement', 'engagement_id'),
        ('consent.consent_records', 'base_consent__records', 'consent_id'),
        ('ads.ad_clicks', 'base_ads__ad_clicks', 'click_id'),
    ]) }}
{%- endmacro %}
