-- One row per landed fact sheet version or deletion notice.
with

source as (
    select * from {{ source('nccih', 'herbs') }}
),

herbs as (
    select
        slug,
        record ->> 'name' as herb_name,
        {{ json_text_array("record -> 'common_names'") }} as common_names,
        {{ json_text_array("record -> 'latin_names'") }} as latin_names,
        record ->> 'uses' as uses,
        record ->> 'how_much_we_know' as how_much_we_know,
        record ->> 'science' as what_the_science_says,
        record ->> 'safety' as safety,
        record ->> 'keep_in_mind' as keep_in_mind,
        last_updated as last_updated_date,
        record ->> 'url' as url,
        deleted as is_deletion_notice,
        fetched_at,
        {{ loaded_at('_dlt_load_id') }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from herbs
