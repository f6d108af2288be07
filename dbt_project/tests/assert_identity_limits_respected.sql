{#- No customer holds more identifiers of a type than var('identity_rules') allows. -#}
select customer_id, identifier_type, count(*) as identifiers
from {{ ref('customer_identifiers') }}
group by customer_id, identifier_type
having count(*) > case identifier_type
    {%- for rule in var('identity_rules') %}
    when '{{ rule.identifier_type }}' then {{ rule.max_per_customer }}
    {%- endfor %}
end
