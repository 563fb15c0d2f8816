-- When medmirror first landed each ICD-10-CM release (its order file or tabular XML,
-- whichever came first): the time its code changes were seen, and its codes.

with

order_codes as (
    select
        release_year,
        code,
        loaded_at
    from {{ ref('stg_icd10cm__order_codes') }}
),

tabular_codes as (
    select
        release_year,
        code,
        loaded_at
    from {{ ref('stg_icd10cm__tabular_codes') }}
),

landings as (
    select * from order_codes
    union all
    select * from tabular_codes
),

releases as (
    select
        release_year,
        min(loaded_at) as first_landed_at,
        count(distinct code) as code_count
    from landings
    group by release_year
)

select * from releases
