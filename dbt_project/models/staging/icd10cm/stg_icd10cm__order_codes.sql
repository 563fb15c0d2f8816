-- Every landed order-file entry of every release; records are small (stored inline).
with

source as (
    -- A release may come without this file: no rows then, rather than no view.
    select
        code,
        release_year,
        record,
        _dlt_load_id,
        source_uri
    from {{ source('icd10cm', 'order_codes') }}
),

renamed as (
    select
        code,
        cast(release_year as smallint) as release_year,
        cast(record ->> 'order_number' as integer) as order_number,
        cast(record ->> 'is_billable' as boolean) as is_billable,
        record ->> 'short_description' as short_description,
        record ->> 'long_description' as long_description,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from source
)

select * from renamed
