-- One row per nutrient amount of each current food, from whichever of FDC's record
-- shapes the food was landed in: full (`nutrient` object, `amount`), abridged
-- (`number`, `name`, `amount`, `unitName`) or search result (`nutrientId`,
-- `nutrientNumber`, `nutrientName`, `value`, `unitName`). Entries without an amount
-- (the full format's headings such as "Proximates") are left out.
{{ config(
    indexes=[
        {'columns': ['fdc_id']},
        {'columns': ['nutrient_number']},
    ],
) }}

with

foods as (
    select * from {{ ref('int_foods_deduplicated') }}
),

entries as (
    select
        foods.fdc_id,
        entry.item,
        entry.position
    from foods
    cross join
        lateral jsonb_array_elements(
            {{ json_array('foods.nutrients') }}
        ) with ordinality as entry (item, position)
    where not foods.is_deleted
),

shaped as (
    select
        fdc_id,
        cast(position as integer) as position,
        {{ safe_integer("coalesce(item #>> '{nutrient,id}', item ->> 'nutrientId')") }}
            as nutrient_id,
        coalesce(
            item #>> '{nutrient,number}', item ->> 'nutrientNumber', item ->> 'number'
        ) as nutrient_number,
        coalesce(
            item #>> '{nutrient,name}', item ->> 'nutrientName', item ->> 'name'
        ) as nutrient_name,
        coalesce(item -> 'amount', item -> 'value') as amount_json,
        coalesce(
            item #>> '{nutrient,unitName}', item ->> 'unitName'
        ) as unit
    from entries
),

amounts as (
    select
        fdc_id,
        position,
        nutrient_id,
        nutrient_number,
        nutrient_name,
        cast(amount_json #>> '{}' as numeric) as amount,
        unit
    from shaped
    where jsonb_typeof(amount_json) = 'number'
)

select * from amounts
