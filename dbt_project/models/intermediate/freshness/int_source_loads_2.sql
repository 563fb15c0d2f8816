-- The committed loads of fooddata, icd10cm, hcpcs, census, cdcplaces, drugcentral, nccih, one row each (the
-- sources are split in groups of at most seven: a model has at most seven parents).

select * from {{ ref('stg_fooddata__freshness') }}

union all

select * from {{ ref('stg_icd10cm__freshness') }}

union all

select * from {{ ref('stg_hcpcs__freshness') }}

union all

select * from {{ ref('stg_census__freshness') }}

union all

select * from {{ ref('stg_cdcplaces__freshness') }}

union all

select * from {{ ref('stg_drugcentral__freshness') }}

union all

select * from {{ ref('stg_nccih__freshness') }}
