{{ config(severity='warn') }}
{#- Warns for every file in the data directory that no source reads (a misnamed file, a folder
    with a typo, a file in a sub-folder): the build goes on, and the warning names the file and
    the reason, so a file never goes unread without a word. Folders whose name starts with `_`
    (`_truth/`) are kept beside the sources on purpose: the build summary lists their files, and
    they do not warn. -#}
select
    file_path,
    source_name,
    reason
from {{ source('landing_zone', 'landed_files') }}
where not is_read
    and left(file_path, 1) <> '_'
