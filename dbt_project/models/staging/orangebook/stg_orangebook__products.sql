-- Every field out of `record` (the raw key columns hold the same values); records are
-- small (a few hundred bytes, stored inline), so no `detoast` is needed.
with

source as (
    select * from {{ source('orangebook', 'products') }}
),

renamed as (
    select
        record ->> 'appl_type' as appl_type,
        record ->> 'appl_no' as appl_no,
        record ->> 'product_no' as product_no,
        record ->> 'ingredient' as ingredient,
        trim(split_part(record ->> 'df_route', ';', 1)) as dosage_form,
        nullif(trim(split_part(record ->> 'df_route', ';', 2)), '') as route,
        record ->> 'trade_name' as trade_name,
        record ->> 'applicant' as applicant,
        record ->> 'applicant_full_name' as applicant_full_name,
        record ->> 'strength' as strength,
        nullif(record ->> 'te_code', '') as te_code,
        {{ month_name_date("record ->> 'approval_date'") }} as approval_date,
        coalesce(record ->> 'approval_date' ilike 'approved prior to%', false)
            as is_approved_before_1982,
        {{ safe_boolean("record ->> 'rld'") }} as is_reference_listed_drug,
        {{ safe_boolean("record ->> 'rs'") }} as is_reference_standard,
        record ->> 'type' as marketing_status,
        release as released_at,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
