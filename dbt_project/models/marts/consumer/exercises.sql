-- One row per exercise of the newest free-exercise-db release landed, searchable:
-- `select * from marts.search_exercises('hamstrings', 20)`.
{{ config(
    post_hook=[
        "analyze {{ this }}",
        "{{ create_search_function(
            columns=[
                ('exercise_id', 'text'),
                ('exercise_name', 'text'),
                ('level', 'text'),
                ('category', 'text'),
                ('equipment', 'text'),
                ('primary_muscles', 'text[]'),
                ('changed_date', 'date'),
            ],
            year='changed_year',
            prior='changed_date',
        ) }}",
    ],
    indexes=[
        {'columns': ['exercise_id'], 'unique': True},
        {'columns': ['search_vector', 'changed_year'], 'type': 'gin'},
        {'columns': ['changed_date']},
    ],
) }}

with

current_exercises as (
    select * from {{ ref('int_exercises_current') }}
    where not is_deleted
),

exercises as (
    select
        exercise_id,
        exercise_name,
        level,
        category,
        equipment,
        force,
        mechanic,
        primary_muscles,
        secondary_muscles,
        array_to_string(instruction_steps, E'\n') as instructions,
        instruction_steps,
        image_paths,
        array(
            select '{{ var(
                'exercise_image_base_url',
                'https://raw.githubusercontent.com/yuhonas/free-exercise-db/main/exercises/',
            ) }}' || image_path
            from unnest(image_paths) as image_path
        ) as image_urls,
        release,
        cast(release_seen_at as date) as changed_date,
        cast(extract(year from release_seen_at) as smallint) as changed_year,
        {{ search_vector({
            'A': ['exercise_name'],
            'B': [
                "array_to_string(primary_muscles, ' ')",
                "array_to_string(secondary_muscles, ' ')",
                'equipment',
            ],
            'C': ['category', 'level', 'force', 'mechanic'],
            'D': ["array_to_string(instruction_steps, ' ')"],
        }) }} as search_vector
    from current_exercises
)

select * from exercises
