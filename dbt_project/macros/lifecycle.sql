{#- Lifecycle stages: the one place their rules live (thresholds in var('lifecycle')).

    Before the first revenue order (not cancelled or refunded):
      anonymous_visitor  from first seen until the first known identifier (user_id, email, phone,
                         crm_contact_id) or the first order, whichever comes first
      lead               from the first known identifier until the first order
    From each revenue order k, until the next order:
      active stage       [order k, order k + at_risk_after_days):
                           reactivated       if k > 1 and order k came at least
                                             reactivated_after_gap_days after order k-1
                           loyal             else if k >= loyal_min_orders
                           repeat_customer   else if k >= repeat_customer_min_orders
                           first_time_buyer  else
      at_risk            [order k + at_risk_after_days, order k + churned_after_days)
      churned            [order k + churned_after_days, next order)
    Every interval ends where the next begins; intervals starting after as_of are dropped and the
    one containing as_of is current (valid_to null). -#}

{% macro lifecycle_setting(name) -%}
    {{ return(var('lifecycle')[name]) }}
{%- endmacro %}

{#- Stages in lifecycle order; stage_order is the position here. -#}
{% macro lifecycle_stages() -%}
    {{ return(['anonymous_visitor', 'lead', 'first_time_buyer', 'repeat_customer', 'loyal',
               'at_risk', 'churned', 'reactivated']) }}
{%- endmacro %}

{% macro lifecycle_stage_order(stage_column) -%}
    case {{ stage_column }}
    {%- for stage in waymark.lifecycle_stages() %}
        when '{{ stage }}' then {{ loop.index }}
    {%- endfor %}
    end
{%- endmacro %}

{#- The stage an order opens, from its number among the customer's revenue orders and the
    previous order's time. -#}
{% macro lifecycle_active_stage(order_number, placed_at, previous_placed_at) -%}
    case
        when {{ order_number }} > 1
            and {{ placed_at }} >= {{ dbt.dateadd('day', waymark.lifecycle_setting('reactivated_after_gap_days'), previous_placed_at) }}
            then 'reactivated'
        when {{ order_number }} >= {{ waymark.lifecycle_setting('loyal_min_orders') }} then 'loyal'
        when {{ order_number }} >= {{ waymark.lifecycle_setting('repeat_customer_min_orders') }} then 'repeat_customer'
        else 'first_time_buyer'
    end
{%- endmacro %}
