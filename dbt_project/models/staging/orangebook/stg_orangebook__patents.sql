-- Every field out of `record` (the raw key columns hold the same values); records are
-- small (a few hundred bytes, stored inline), so no `detoast` is needed.
with

source as (
    select * from {{ source('orangebook', 'patents') }}
),

renamed as (
    select
        record ->> 'appl_type' as appl_type,
        record ->> 'appl_no' as appl_no,
        record ->> 'product_no' as product_no,
        record ->> 'patent_no' as patent_no,
        nullif(record ->> 'patent_use_code', '') as patent_use_code,
        record ->> 'patent_no' like '%*PED' as is_pediatric_exclusivity,
        {{ month_name_date("record ->> 'patent_expire_date_text'") }}
            as patent_expire_date,
        coalesce({{ safe_boolean("record ->> 'drug_substance_flag'") }}, false)
            as is_drug_substance_claim,
        coalesce({{ safe_boolean("record ->> 'drug_product_flag'") }}, false)
            as is_drug_product_claim,
        coalesce({{ safe_boolean("record ->> 'delist_flag'") }}, false)
            as is_delist_requested,
        {{ month_name_date("record ->> 'submission_date'") }} as submission_date,
        release as released_at,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
