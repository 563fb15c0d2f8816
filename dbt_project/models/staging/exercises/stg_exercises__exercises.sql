-- One row per landed exercise version or deletion notice, typed.
with

source as (
    select * from {{ source('exercises', 'exercises') }}
),

exercises as (
    select
        exercise_id,
        record ->> 'name' as exercise_name,
        record ->> 'level' as level,
        record ->> 'category' as category,
        record ->> 'equipment' as equipment,
        record ->> 'force' as force,
        record ->> 'mechanic' as mechanic,
        {{ json_text_array("record -> 'primaryMuscles'") }} as primary_muscles,
        {{ json_text_array("record -> 'secondaryMuscles'") }} as secondary_muscles,
        {{ json_text_array("record -> 'instructions'") }} as instruction_steps,
        {{ json_text_array("record -> 'images'") }} as image_paths,
        release,
        release_seen_at,
        deleted as is_deletion_notice,
        {{ loaded_at('_dlt_load_id') }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from exercises
