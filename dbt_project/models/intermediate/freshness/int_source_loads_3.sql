-- The committed loads of exercises, rxnav, one row each (the
-- sources are split in groups of at most seven: a model has at most seven parents).

select * from {{ ref('stg_exercises__freshness') }}

union all

select * from {{ ref('stg_rxnav__freshness') }}
