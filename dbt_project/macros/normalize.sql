{#- Identifier normalisation. waymark/identifiers.py mirrors these rules exactly (the generator
    writes its ground truth with it), and unit tests pin both to the same vectors. -#}

{% set email_pattern = "'^[a-z0-9._%+''-]+@[a-z0-9-]+(\\.[a-z0-9-]+)*\\.[a-z]{2,}$'" %}

{#- Whitespace trimmed at both ends, lower-cased, and null unless it looks like an address. -#}
{% macro normalize_email(column) -%}
    {%- set cleaned = "lower(" ~ waymark.regex_replace_all(column, "'^\\s+|\\s+$'", "''") ~ ")" -%}
    case
        when {{ waymark.regex_match(cleaned, "'^[a-z0-9._%+''-]+@[a-z0-9-]+(\\.[a-z0-9-]+)*\\.[a-z]{2,}$'") }}
            then {{ cleaned }}
    end
{%- endmacro %}

{#- International calling code and whether national numbers carry a trunk '0'. -#}
{% macro phone_country_codes() -%}
    {{ return({
        'US': ('1', false), 'CA': ('1', false), 'GB': ('44', true), 'DE': ('49', true),
        'FR': ('33', true), 'AU': ('61', true), 'NL': ('31', true), 'ES': ('34', true),
        'IE': ('353', true)
    }) }}
{%- endmacro %}

{#- E.164 ('+' and 8-15 digits) using the row's country for national numbers, falling back to
    the project's default country; null when the result is not a plausible number. -#}
{% macro normalize_phone(column, country_column=none) -%}
    {%- set codes = waymark.phone_country_codes() -%}
    {%- set trimmed = "trim(" ~ column ~ ")" -%}
    {%- set digits = waymark.regex_replace_all(column, "'[^0-9]'", "''") -%}
    {%- set country = "upper(coalesce(nullif(trim(" ~ (country_column or "null") ~ "), ''), '" ~ var('default_phone_country') ~ "'))" -%}
    {%- set national -%}
        case {{ country }}
        {%- for iso, (code, trunk) in codes.items() %}
            when '{{ iso }}' then
            {%- if code == '1' %}
                case when length({{ digits }}) = 11 and {{ digits }} like '1%' then '+' || {{ digits }}
                     else '+1' || {{ digits }} end
            {%- elif trunk %}
                '+{{ code }}' || case when {{ digits }} like '0%' then substring({{ digits }}, 2) else {{ digits }} end
            {%- else %}
                '+{{ code }}' || {{ digits }}
            {%- endif %}
        {%- endfor %}
        end
    {%- endset -%}
    {%- set candidate -%}
        case
            when {{ trimmed }} like '+%' then '+' || {{ digits }}
            when {{ trimmed }} like '00%' then '+' || substring({{ digits }}, 3)
            else {{ national }}
        end
    {%- endset -%}
    case when {{ waymark.regex_match(candidate, "'^\\+[1-9][0-9]{7,14}$'") }} then {{ candidate }} end
{%- endmacro %}

{#- True when the (already normalised) value is on the configurable blocklist
    (seed `identifier_blocklist`: exact values and regexes, per identifier type or '*'). -#}
{% macro is_blocklisted(identifier_type, column) -%}
    exists (
        select 1
        from {{ ref('identifier_blocklist') }} as blocklist
        where blocklist.identifier_type in ('{{ identifier_type }}', '*')
          and (
              (blocklist.match_type = 'exact' and blocklist.pattern = {{ column }})
              or (blocklist.match_type = 'regex' and {{ waymark.regex_match(column, 'blocklist.pattern') }})
          )
    )
{%- endmacro %}

{#- A normalised identifier with blocklisted values turned into null. -#}
{% macro clean_identifier(identifier_type, normalized_expression) -%}
    case when not {{ waymark.is_blocklisted(identifier_type, normalized_expression) }}
        then {{ normalized_expression }} end
{%- endmacro %}

{#- Comma-separated names of identifier fields whose value failed validation, or null. Junk on
    the blocklist is expected and not reported. `checks` holds (identifier_type, raw, normalised). -#}
{% macro invalid_fields(checks) -%}
    nullif(concat_ws(', '
    {%- for identifier_type, raw_column, normalized_column in checks %},
        case when {{ raw_column }} is not null and {{ normalized_column }} is null
              and not {{ waymark.is_blocklisted(identifier_type, 'lower(trim(' ~ raw_column ~ '))') }}
            then '{{ identifier_type }}' end
    {%- endfor %}), '')
{%- endmacro %}
