-- Every field out of `record` (the raw key columns hold the same values); records are
-- small (a few hundred bytes, stored inline), so no `detoast` is needed.
with

source as (
    select * from {{ source('orangebook', 'exclusivities') }}
),

renamed as (
    select
        record ->> 'appl_type' as appl_type,
        record ->> 'appl_no' as appl_no,
        record ->> 'product_no' as product_no,
        record ->> 'exclusivity_code' as exclusivity_code,
        {{ month_name_date("record ->> 'exclusivity_date'") }} as exclusivity_date,
        release as released_at,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
