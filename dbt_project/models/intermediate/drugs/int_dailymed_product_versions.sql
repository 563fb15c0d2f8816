-- Every product of every landed DailyMed label version (each landing), with the columns
-- the drug models read: the products out of their documents once, so that the
-- consolidation (`int_drug_moieties` over every version, `int_drug_ingredients_resolved`
-- and `int_drug_products_unioned` over the current ones) reads a table rather than
-- decompressing every landed document on each build. Incremental: a run rebuilds only
-- the set ids with something landed since the previous run, from all their landings.

{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_changed_keys('set_id', ref('int_dailymed_labels_current')) }}",
    indexes=[
        {'columns': ['set_id', 'spl_version', 'load_id', 'product_position'], 'unique': True},
        {'columns': ['last_landed_at']},
    ],
) }}

with

changed_sets as (
    select
        set_id,
        last_landed_at
    from {{ ref('int_dailymed_labels_current') }}
    where {{ newer_than_built() }}
),

products as (
    select
        set_id,
        spl_version,
        load_id,
        product_position,
        ndc_product_code,
        source_ndc_product_code,
        proprietary_name,
        generic_name,
        dosage_form_name,
        route_names,
        active_ingredients,
        marketing_category_name,
        application_number,
        marketing_status,
        marketing_start_date,
        marketing_end_date,
        ndc_package_codes
    from {{ ref('stg_dailymed__products') }}
    where {{ among_changed_keys('set_id', 'changed_sets') }}
),

versions as (
    select
        products.*,
        changed_sets.last_landed_at
    from products
    inner join changed_sets on products.set_id = changed_sets.set_id
)

select * from versions
