with

source as (
    select * from {{ source('ops', 'reconciliation') }}
),

renamed as (
    select
        source as source_name,
        resource,
        checked_at,
        publisher_count,
        mirror_count,
        counted,
        how,
        publisher_as_of,
        mirror_as_of
    from source
)

select * from renamed
