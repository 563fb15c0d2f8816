-- Analysed after each build: the search function reads the planner's match estimates.
{{ config(
    post_hook=[
        "analyze {{ this }}",
        "{{ create_search_function(
            columns=[
                ('product_id', 'text'),
                ('trade_name', 'text'),
                ('ingredient', 'text'),
                ('applicant', 'text'),
                ('strength', 'text'),
                ('dosage_form', 'text'),
                ('route', 'text'),
                ('marketing_status', 'text'),
                ('approval_date', 'date'),
            ],
            year='approval_year',
            prior='approval_date',
        ) }}",
    ],
    indexes=[
        {'columns': ['product_id'], 'unique': True},
        {'columns': ['search_vector', 'approval_year'], 'type': 'gin'},
        {'columns': ['approval_date']},
        {'columns': ['ingredient']},
    ],
) }}

with

products as (
    select * from {{ ref('int_orange_book_products_current') }}
),

patents as (
    select * from {{ ref('int_orange_book_patents_current') }}
),

exclusivities as (
    select * from {{ ref('int_orange_book_exclusivities_current') }}
),

-- A patent's pediatric exclusivity (`1234567*PED`) extends that same patent.
patent_numbers as (
    select
        appl_type,
        appl_no,
        product_no,
        replace(patent_no, '*PED', '') as patent_number,
        patent_expire_date
    from patents
),

patents_per_product as (
    select
        appl_type,
        appl_no,
        product_no,
        count(distinct patent_number) as patent_count,
        array_agg(distinct patent_number order by patent_number) as patent_numbers,
        max(patent_expire_date) as last_patent_expire_date
    from patent_numbers
    group by appl_type, appl_no, product_no
),

exclusivities_per_product as (
    select
        appl_type,
        appl_no,
        product_no,
        count(*) as exclusivity_count,
        array_agg(distinct exclusivity_code order by exclusivity_code)
            as exclusivity_codes,
        max(exclusivity_date) as last_exclusivity_date
    from exclusivities
    group by appl_type, appl_no, product_no
),

joined as (
    select
        {{ orange_book_product_id('products') }} as product_id,
        products.appl_type,
        products.appl_no,
        products.product_no,
        products.trade_name,
        products.ingredient,
        products.dosage_form,
        products.route,
        products.strength,
        products.applicant,
        products.applicant_full_name,
        products.te_code,
        products.approval_date,
        cast(extract(year from products.approval_date) as smallint) as approval_year,
        products.is_approved_before_1982,
        products.is_reference_listed_drug,
        products.is_reference_standard,
        products.marketing_status,
        coalesce(patents_per_product.patent_count, 0) as patent_count,
        coalesce(patents_per_product.patent_numbers, '{}') as patent_numbers,
        patents_per_product.last_patent_expire_date,
        coalesce(exclusivities_per_product.exclusivity_count, 0) as exclusivity_count,
        coalesce(exclusivities_per_product.exclusivity_codes, '{}') as exclusivity_codes,
        exclusivities_per_product.last_exclusivity_date,
        products.released_at
    from products
    left join patents_per_product
        on products.appl_type = patents_per_product.appl_type
        and products.appl_no = patents_per_product.appl_no
        and products.product_no = patents_per_product.product_no
    left join exclusivities_per_product
        on products.appl_type = exclusivities_per_product.appl_type
        and products.appl_no = exclusivities_per_product.appl_no
        and products.product_no = exclusivities_per_product.product_no
),

searchable as (
    select
        *,
        {{ search_vector({
            'A': ['trade_name', 'ingredient'],
            'B': ['applicant', 'applicant_full_name'],
            'C': ['dosage_form', 'route'],
            'D': ['appl_no'],
        }) }} as search_vector
    from joined
)

select * from searchable
