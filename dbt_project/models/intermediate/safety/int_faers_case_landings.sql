-- Every landed version of a FAERS case (a DEMO line of a quarter) and every deletion
-- notice (a case id on a quarter's deleted-case list), as one history per case id for
-- `current_versions`. A view: it only renames.

{{ config(materialized='view') }}

with

reports as (
    select * from {{ ref('stg_faers__reports') }}
),

deleted_cases as (
    select * from {{ ref('stg_faers__deleted_cases') }}
),

versions as (
    select
        caseid,
        primaryid,
        primaryid_number,
        layout,
        quarter,
        case_version,
        fda_received_date,
        is_deletion_notice,
        loaded_at,
        load_id
    from reports
    where caseid is not null and caseid <> ''
),

notices as (
    select
        caseid,
        cast(null as text) as primaryid,
        cast(null as integer) as primaryid_number,
        cast(null as text) as layout,
        quarter,
        cast(null as integer) as case_version,
        cast(null as date) as fda_received_date,
        is_deletion_notice,
        loaded_at,
        load_id
    from deleted_cases
),

landings as (
    select * from versions
    union all
    select * from notices
)

select * from landings
