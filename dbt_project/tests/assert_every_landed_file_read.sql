{{ config(severity='warn') }}
{#- Warns for every file in the data directory that no source reads (a misnamed file, a folder
    with a typo, a file in a sub-folder): the build goes on, and the warning names the file and
    the reason, so a file never goes unread without a word. -#}
select
    file_path,
    source_name,
    reason
from {{ source('landing_zone', 'landed_files') }}
where not is_read
