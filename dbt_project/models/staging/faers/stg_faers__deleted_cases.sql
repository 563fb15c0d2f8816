-- One row per case id on a deleted-case list FDA published with a quarter.
with

source as (
    {{ landed_or_empty(source('faers', 'deleted_cases'), {'primaryid': 'text', 'caseid': 'text', 'quarter': 'text', 'layout': 'text', 'record': 'jsonb', 'source_uri': 'text', 'deleted': 'boolean', '_dlt_load_id': 'text'}) }}
),

renamed as (
    select
        caseid,
        quarter,
        true as is_deletion_notice,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
