-- Disproportionality of every (ingredient, preferred term) pair reported together in at
-- least 3 current cases, the ingredient a primary or secondary suspect (an openFDA
-- "suspect" too). Counted in cases, over the cases that have at least one suspect drug
-- with an ingredient name and at least one reaction (N):
--   a = cases with the ingredient and the term     b = with the ingredient, not the term
--   c = with the term, not the ingredient          d = N - a - b - c
-- PRR = a/(a+b) / (c/(c+d)), ROR = ad/bc, each with a 95% confidence interval by the log
-- method (exp(ln x -/+ 1.96 se)); chi-square with Yates' correction; the usual signal:
-- PRR >= 2, chi-square >= 4 and a >= 3. A ratio with a zero in its denominator is null.
-- `drug_id`: the drug of the drugs mart every linked suspect row of the ingredient name
-- links to (null when none links, or when its rows link to different drugs).

{{ config(indexes=[
    {'columns': ['ingredient_name']}, {'columns': ['preferred_term']}, {'columns': ['drug_id']},
]) }}

with

drugs as (
    select * from {{ ref('adverse_event_drugs') }}
),

reactions as (
    select
        caseid,
        preferred_term_key
    from {{ ref('adverse_event_reactions') }}
),

ingredient_drugs as (
    select
        ingredient_name,
        case when count(distinct drug_id) = 1 then min(drug_id) end as drug_id
    from drugs
    where is_suspect and ingredient_name is not null and drug_id is not null
    group by ingredient_name
),

case_ingredients as (
    select distinct
        caseid,
        ingredient_name
    from drugs
    where is_suspect and ingredient_name is not null
),

case_terms as (
    select distinct
        caseid,
        preferred_term_key as preferred_term
    from reactions
),

counted_cases as (
    select distinct caseid from case_ingredients
    intersect
    select distinct caseid from case_terms
),

ingredient_cases as (
    select case_ingredients.*
    from case_ingredients
    inner join counted_cases on counted_cases.caseid = case_ingredients.caseid
),

term_cases as (
    select case_terms.*
    from case_terms
    inner join counted_cases on counted_cases.caseid = case_terms.caseid
),

total as (
    select cast(count(*) as numeric) as n from counted_cases
),

per_ingredient as (
    select
        ingredient_name,
        count(*) as ingredient_cases
    from ingredient_cases
    group by ingredient_name
),

per_term as (
    select
        preferred_term,
        count(*) as term_cases
    from term_cases
    group by preferred_term
),

pairs as (
    select
        ingredient_cases.ingredient_name,
        term_cases.preferred_term,
        count(*) as a
    from ingredient_cases
    inner join term_cases on term_cases.caseid = ingredient_cases.caseid
    group by ingredient_cases.ingredient_name, term_cases.preferred_term
    having count(*) >= 3
),

two_by_two as (
    select
        pairs.ingredient_name,
        pairs.preferred_term,
        cast(pairs.a as numeric) as a,
        cast(per_ingredient.ingredient_cases - pairs.a as numeric) as b,
        cast(per_term.term_cases - pairs.a as numeric) as c,
        total.n - per_ingredient.ingredient_cases - per_term.term_cases + pairs.a as d,
        total.n
    from pairs
    inner join per_ingredient on per_ingredient.ingredient_name = pairs.ingredient_name
    inner join per_term on per_term.preferred_term = pairs.preferred_term
    cross join total
),

-- Materialised and in double precision where exp, ln and sqrt are taken, as in
-- drug_reaction_signals_by_quarter (the ratios and chi-square stay numeric).
ratios as materialized (
    select
        *,
        case when c > 0 then (a / (a + b)) / (c / (c + d)) end as prr,
        case when c > 0 and c + d > 0
                then sqrt(
                        cast(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d) as double precision)
                    )
        end as prr_log_se,
        case when b > 0 and c > 0 then (a * d) / (b * c) end as ror,
        case when b > 0 and c > 0 and d > 0
                then sqrt(
                        cast(1 / a + 1 / b + 1 / c + 1 / d as double precision)
                    )
        end as ror_log_se,
        case when (a + b) * (c + d) * (a + c) * (b + d) > 0
                then n * power(greatest(abs(a * d - b * c) - n / 2, 0), 2)
                    / ((a + b) * (c + d) * (a + c) * (b + d))
        end as chi_square_yates
    from two_by_two
),

final as (
    select
        md5(ratios.ingredient_name || '|' || ratios.preferred_term)
            as drug_reaction_signal_id,
        ratios.ingredient_name,
        preferred_term,
        cast(a as integer) as a,
        cast(b as integer) as b,
        cast(c as integer) as c,
        cast(d as integer) as d,
        cast(n as integer) as total_cases,
        prr,
        case when prr > 0
                then cast(
                        exp(ln(cast(prr as double precision)) - 1.96 * prr_log_se)
                        as numeric
                    )
        end as prr_lower_95,
        case when prr > 0
                then cast(
                        exp(ln(cast(prr as double precision)) + 1.96 * prr_log_se)
                        as numeric
                    )
        end as prr_upper_95,
        ror,
        case when ror > 0
                then cast(
                        exp(ln(cast(ror as double precision)) - 1.96 * ror_log_se)
                        as numeric
                    )
        end as ror_lower_95,
        case when ror > 0
                then cast(
                        exp(ln(cast(ror as double precision)) + 1.96 * ror_log_se)
                        as numeric
                    )
        end as ror_upper_95,
        chi_square_yates,
        coalesce(prr >= 2 and chi_square_yates >= 4 and a >= 3, false) as is_signal,
        ingredient_drugs.drug_id
    from ratios
    left join ingredient_drugs on ratios.ingredient_name = ingredient_drugs.ingredient_name
)

select * from final
