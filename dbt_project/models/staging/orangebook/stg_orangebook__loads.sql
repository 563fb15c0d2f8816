with

source as (
    select * from {{ source('orangebook', '_dlt_loads') }}
),

renamed as (
    select
        load_id,
        status = 0 as is_complete,
        inserted_at as completed_at
    from source
)

select * from renamed
