{#- Fails for every source whose quarantined share passes `quarantine_max_share`: a feed that
    starts sending mostly bad rows must stop the build, not quietly shrink the customer view. -#}
select
    source_name,
    rows_landed,
    rows_quarantined,
    rows_malformed,
    quarantined_share
from {{ ref('source_quality') }}
where quarantined_share > {{ var('quarantine_max_share') }}
