-- The current version of every exercise landed (deletions applied by the mart).
{{ current_versions(
    ref('stg_exercises__exercises'),
    key='exercise_id',
    newest_first='loaded_at desc',
) }}
