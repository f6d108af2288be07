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
    {#- Runs on every identifier of every source row. Non-digits are removed in runs ('[^0-9]+'):
        one replacement per character made this the costliest expression of staging. -#}
    {%- set codes = waymark.phone_country_codes() -%}
    {%- set trimmed = "trim(" ~ column ~ ")" -%}
    {%- set digits = waymark.regex_replace_all(column, "'[^0-9]+'", "''") -%}
    {%- set country = "upper(coalesce(nullif(trim(" ~ (country_column or "null") ~ "), ''), '" ~ var('default_phone_country') ~ "'))" -%}
    {%- set trunk_countries = [] -%}
    {%- for iso, (code, trunk) in codes.items() if trunk -%}{%- do trunk_countries.append("'" ~ iso ~ "'") -%}{%- endfor -%}
    {%- set calling_code -%}
        case {{ country }}
        {%- for iso, (code, trunk) in codes.items() %} when '{{ iso }}' then '{{ code }}'{%- endfor %} end
    {%- endset -%}
    {%- set candidate -%}
        case
            when {{ trimmed }} like '+%' then '+' || {{ digits }}
            when {{ trimmed }} like '00%' then '+' || substring({{ digits }}, 3)
            {#- NANP numbers may be written with their country code 1 and no '+'. #}
            when {{ calling_code }} = '1' then
                '+' || case when {{ digits }} like '1__________' then '' else '1' end || {{ digits }}
            {#- Elsewhere a national number's trunk '0' is dropped after the calling code. #}
            else '+' || {{ calling_code }} || case
                when {{ country }} in ({{ trunk_countries | join(', ') }}) and {{ digits }} like '0%'
                    then substring({{ digits }}, 2) else {{ digits }} end
        end
    {%- endset -%}
    case when {{ waymark.regex_match(candidate, "'^\\+[1-9][0-9]{7,14}$'") }} then {{ candidate }} end
{%- endmacro %}

{#- Blocklist handling for the identifier columns of a staging model.

    Each check is a dict: `name` (output column), `type` (SQL expression giving the identifier
    type, e.g. "'email'"), `raw` (the value as landed, trimmed) and `normalized` (null when it
    failed validation). The blocklist seed holds exact values and regexes; matching runs once
    per distinct candidate value, not once per row, and the few blocked values are joined back.
    A candidate is the normalised value, or the lower-cased raw value when normalisation failed
    (so placeholders like 'N/A' count as junk rather than malformed). The source CTE is read
    once per check, so callers declare it `{{ waymark.materialized_cte() }}`: otherwise each read
    re-parses the source rows. -#}

{% macro blocklist_ctes(source_cte, checks) -%}
blocklist_candidates as (
    {%- for check in checks %}
    select distinct
        {{ check.type }} as identifier_type,
        coalesce({{ check.normalized }}, lower({{ check.raw }})) as candidate_value
    from {{ source_cte }}
    where {{ check.raw }} is not null
    {{ 'union' if not loop.last }}
    {%- endfor %}
),

blocked_values as (
    select candidates.identifier_type, candidates.candidate_value
    from blocklist_candidates as candidates
    inner join {{ ref('identifier_blocklist') }} as blocklist
        on blocklist.pattern = candidates.candidate_value
        and blocklist.identifier_type in (candidates.identifier_type, '*')
    where blocklist.match_type = 'exact'
    union
    {{ waymark.blocklist_regex_matches('blocklist_candidates') }}
)
{%- endmacro %}

{#- Candidates matching a regex on the blocklist. The patterns are read from the seed when the
    model compiles and inlined as constants: a pattern that comes from a column is compiled once
    per row, which made the blocklist the slowest step of event staging. Unit tests (whose
    blocklist is a fixture, not a table) and parsing keep the join form. -#}
{% macro blocklist_regex_matches(candidates_cte) -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- set patterns = run_query(
            "select identifier_type, pattern from " ~ ref('identifier_blocklist')
            ~ " where match_type = 'regex' order by identifier_type, pattern") -%}
    select identifier_type, candidate_value
    from {{ candidates_cte }}
    where false
        {%- for row in patterns.rows %}
        or ({{ "true" if row[0] == '*' else "identifier_type = " ~ waymark.string_literal(row[0]) }}
            and {{ waymark.regex_match('candidate_value', waymark.string_literal(row[1])) }})
        {%- endfor %}
    {%- else -%}
    select candidates.identifier_type, candidates.candidate_value
    from {{ candidates_cte }} as candidates
    inner join {{ ref('identifier_blocklist') }} as blocklist
        on blocklist.identifier_type in (candidates.identifier_type, '*')
    where blocklist.match_type = 'regex'
        and {{ waymark.regex_match('candidates.candidate_value', 'blocklist.pattern') }}
    {%- endif -%}
{%- endmacro %}

{% macro blocklist_joins(checks) -%}
    {%- for check in checks %}
    left join blocked_values as blocked_{{ check.name }}
        on blocked_{{ check.name }}.identifier_type = {{ check.type }}
        and blocked_{{ check.name }}.candidate_value = coalesce({{ check.normalized }}, lower({{ check.raw }}))
    {%- endfor %}
{%- endmacro %}

{#- The usable identifier: normalised and not blocklisted, else null. -#}
{% macro unless_blocklisted(check) -%}
    case when blocked_{{ check.name }}.candidate_value is null then {{ check.normalized }} end
{%- endmacro %}

{#- `malformed_identifier: ` and the comma-separated names of identifier fields whose value failed
    validation, or null. Junk on the blocklist is expected and not reported. -#}
{% macro invalid_fields(checks) -%}
    ('malformed_identifier: ' || nullif(concat_ws(', '
    {%- for check in checks %},
        case when {{ check.raw }} is not null and {{ check.normalized }} is null
              and blocked_{{ check.name }}.candidate_value is null
            then '{{ check.name }}' end
    {%- endfor %}), ''))
{%- endmacro %}

{#- Every reason a row's fields were nulled (`_invalid_fields`), from expressions that are each a
    reason or null; null when there is none. `quarantine` shows them as `field_nulled`. -#}
{% macro nulled_fields(problems) -%}
    nullif(concat_ws('; '{% for problem in problems %}, {{ problem }}{% endfor %}), '')
{%- endmacro %}
