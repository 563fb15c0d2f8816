-- The current state of every citation landed: its latest version (highest PMID version,
-- then newest DateRevised, then newest landing), and whether it is deleted (its latest
-- landing is a deletion notice). Incremental: a run rebuilds only the citations with
-- something landed since the previous run, from their whole landed history. A later
-- revision wins even when an older file is landed after it (a full reload, a backfill of
-- an older update file); the landing order decides between equal revisions.

{{ config(
    materialized='incremental',
    unique_key='pmid',
    incremental_strategy='delete+insert',
    indexes=[
        {'columns': ['pmid'], 'unique': True},
        {'columns': ['last_landed_at']},
    ],
) }}

{{ current_versions(
    ref('stg_pubmed__articles'),
    key='pmid',
    newest_first='pmid_version desc, date_revised desc nulls last, loaded_at desc',
) }}
