{#- A customer's golden email and phone are identifiers of that same customer. -#}
select customers.customer_id, 'email' as field_name, customers.email as field_value
from {{ ref('customers') }} as customers
left join {{ ref('customer_identifiers') }} as identifiers
    on identifiers.identifier_type = 'email'
    and identifiers.identifier_value = customers.email
    and identifiers.customer_id = customers.customer_id
where customers.email is not null
  and identifiers.customer_id is null

union all

select customers.customer_id, 'phone' as field_name, customers.phone as field_value
from {{ ref('customers') }} as customers
left join {{ ref('customer_identifiers') }} as identifiers
    on identifiers.identifier_type = 'phone'
    and identifiers.identifier_value = customers.phone
    and identifiers.customer_id = customers.customer_id
where customers.phone is not null
  and identifiers.customer_id is null
