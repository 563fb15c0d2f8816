-- One row per landed OUTC line: a patient outcome code of one case version.
with

source as (
    {{ landed_or_empty(source('faers', 'outc'), {'primaryid': 'text', 'caseid': 'text', 'quarter': 'text', 'layout': 'text', 'record': 'jsonb', 'source_uri': 'text', 'deleted': 'boolean', '_dlt_load_id': 'text'}) }}
),

renamed as (
    select
        primaryid,
        layout,
        quarter,
        nullif(upper(trim(record ->> 'outc_cod')), '') as outcome_code,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
