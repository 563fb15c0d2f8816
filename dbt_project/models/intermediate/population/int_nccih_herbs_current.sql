-- The current version of every NCCIH fact sheet (deletions applied by the mart).
{{ current_versions(
    ref('stg_nccih__herbs'),
    key='slug',
    newest_first='loaded_at desc',
) }}
