-- The committed loads of fooddata, icd10cm, hcpcs, census, cdcplaces, drugcentral, nccih, one row each (the
-- sources are split in groups of at most seven: a model has at most seven parents).

select * from {{ ref('stg_fooddata__loads') }}

union all

select * from {{ ref('stg_icd10cm__loads') }}

union all

select * from {{ ref('stg_hcpcs__loads') }}

union all

select * from {{ ref('stg_census__loads') }}

union all

select * from {{ ref('stg_cdcplaces__loads') }}

union all

select * from {{ ref('stg_drugcentral__loads') }}

union all

select * from {{ ref('stg_nccih__loads') }}
