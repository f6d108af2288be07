{#- RFM scoring, shared by int_customer_rfm and its documentation (int_customer_rfm.yml). -#}

{#- Quintile-like score 1-5 where equal metric values get equal scores:
    least(5, 1 + floor(5 * (rank() over (order by metric) - 1) / count(*) over ())).
    `direction` 'desc' ranks the smallest value highest (used for recency in days). -#}
{% macro rfm_score(metric, direction='asc') -%}
    least(5, 1 + cast(floor(
        cast(5 * (rank() over (order by {{ metric }} {{ direction }}) - 1) as double)
        / cast(count(*) over () as double)
    ) as integer))
{%- endmacro %}

{#- Segment label from the three scores, first matching rule wins:
    r >= 4 and f >= 4              champions
    r >= 4 and f >= 2              potential loyalist
    r >= 4                         new                (f = 1)
    r = 3 and f >= 3               loyal
    r = 3                          hibernating        (f <= 2)
    r <= 2 and f >= 4 and m >= 4   cannot lose        (frequent, big spenders gone quiet)
    r <= 2 and f >= 3              at risk
    r = 2                          hibernating        (f <= 2)
    otherwise                      lost               (r = 1, f <= 2) -#}
{% macro rfm_segment(r, f, m) -%}
    case
        when {{ r }} >= 4 and {{ f }} >= 4 then 'champions'
        when {{ r }} >= 4 and {{ f }} >= 2 then 'potential loyalist'
        when {{ r }} >= 4 then 'new'
        when {{ r }} = 3 and {{ f }} >= 3 then 'loyal'
        when {{ r }} = 3 then 'hibernating'
        when {{ f }} >= 4 and {{ m }} >= 4 then 'cannot lose'
        when {{ f }} >= 3 then 'at risk'
        when {{ r }} = 2 then 'hibernating'
        else 'lost'
    end
{%- endmacro %}
