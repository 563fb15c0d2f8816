-- The current state of every study landed: its latest version (newest
-- LastUpdatePostDate, then newest landing), and whether it is deleted (its latest
-- landing is a deletion notice). Incremental: a run rebuilds only the studies with
-- something landed since the previous run, from their whole landed history.

{{ config(
    materialized='incremental',
    unique_key='nct_id',
    incremental_strategy='delete+insert',
    indexes=[
        {'columns': ['nct_id'], 'unique': True},
        {'columns': ['last_landed_at']},
    ],
) }}

{{ current_versions(
    ref('stg_clinicaltrials__studies'),
    key='nct_id',
    newest_first='last_update_post_date desc nulls last, loaded_at desc',
) }}
