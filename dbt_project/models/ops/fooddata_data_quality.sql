-- The FoodData Central data-quality summary (one row per check), read into the run
-- summary. Foods land as FDC wrote them: what a mart cannot use is counted here, never
-- dropped from raw (a nutrient amount that is not a number is not in food_nutrients).
{{ data_quality_check(
    'fooddata', 'food has a description and a data type',
    ref('food_items'),
    'fdc_id is not null', 'description is not null and data_type is not null',
) }}
union all
{{ data_quality_check(
    'fooddata', 'published date read',
    ref('stg_fooddata__foods'),
    'fdc_id is not null', 'published_date is not null',
) }}
union all
{{ data_quality_check(
    'fooddata', 'nutrient amount is a number (where one is given)',
    '(select coalesce(entry.item -> \'amount\', entry.item -> \'value\') as amount from '
        ~ ref('stg_fooddata__foods')
        ~ ' cross join lateral jsonb_array_elements(' ~ json_array('nutrients')
        ~ ') as entry (item)) as nutrient_entries',
    "amount is not null and jsonb_typeof(amount) <> 'null'",
    "jsonb_typeof(amount) = 'number'",
) }}
