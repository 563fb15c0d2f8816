-- One row per landed RPSR line: a source of one case version (HP, CSM, FGN, ...).
with

source as (
    {{ landed_or_empty(source('faers', 'rpsr'), {'primaryid': 'text', 'caseid': 'text', 'quarter': 'text', 'layout': 'text', 'record': 'jsonb', 'source_uri': 'text', 'deleted': 'boolean', '_dlt_load_id': 'text'}) }}
),

renamed as (
    select
        primaryid,
        layout,
        quarter,
        nullif(upper(trim(record ->> 'rpsr_cod')), '') as report_source_code,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
