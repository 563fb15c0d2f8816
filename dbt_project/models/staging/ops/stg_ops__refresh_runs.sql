with

source as (
    select * from {{ source('ops', 'refresh_runs') }}
),

renamed as (
    select
        run_id,
        source as source_name,
        way_in,
        is_full,
        started_at,
        finished_at,
        succeeded as is_succeeded,
        rows_landed
    from source
)

select * from renamed
