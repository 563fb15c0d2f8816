-- The committed loads of clinicaltrials, orangebook, pubmed, dailymed, openfda, faers, medlineplus, one row each (the
-- sources are split in groups of at most seven: a model has at most seven parents).

select * from {{ ref('stg_clinicaltrials__freshness') }}

union all

select * from {{ ref('stg_orangebook__freshness') }}

union all

select * from {{ ref('stg_pubmed__freshness') }}

union all

select * from {{ ref('stg_dailymed__freshness') }}

union all

select * from {{ ref('stg_openfda__freshness') }}

union all

select * from {{ ref('stg_faers__freshness') }}

union all

select * from {{ ref('stg_medlineplus__freshness') }}
