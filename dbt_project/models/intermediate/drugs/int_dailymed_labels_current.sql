-- The latest version of each DailyMed label (set id): highest SPL version, then newest
-- effective date, then newest landing. Its products and sections are the staging rows of
-- the same set_id, spl_version and load_id. Incremental: a run rebuilds only the set ids
-- with something landed since the previous run, from their whole landed history.

-- Analysed after each build: the label models read it at once, and a table not yet
-- analysed (after a full build) led the planner to a nested loop over 20,000 labels.

{{ config(
    materialized='incremental',
    unique_key='set_id',
    incremental_strategy='delete+insert',
    post_hook="analyze {{ this }}",
    indexes=[
        {'columns': ['set_id'], 'unique': True},
        {'columns': ['last_landed_at']},
    ],
) }}

{{ current_versions(
    ref('stg_dailymed__labels'),
    key='set_id',
    newest_first='spl_version desc, effective_date desc nulls last, loaded_at desc',
) }}
