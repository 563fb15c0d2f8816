-- The current version of every openFDA label set: highest SPL version, then newest
-- effective date, then newest landing. openFDA publishes no deletions, so `is_deleted`
-- stays false. Incremental: a run rebuilds only the sets with something landed since the
-- previous run, from their whole landed history.

{{ config(
    materialized='incremental',
    unique_key='set_id',
    incremental_strategy='delete+insert',
    indexes=[
        {'columns': ['set_id'], 'unique': True},
        {'columns': ['last_landed_at']},
    ],
) }}

{{ current_versions(
    ref('stg_openfda__labels'),
    key='set_id',
    newest_first='version_number desc nulls last, effective_date desc nulls last, '
        ~ 'loaded_at desc',
) }}
