-- Disproportionality of every (drug, preferred term) pair quarter by quarter, counted in
-- cases as `drug_reaction_signals` counts them (suspect drugs; cases with at least one
-- suspect drug and one reaction), but cumulative: the 2x2 table at a quarter holds the
-- cases of that quarter and every earlier one, as a signal review sees the data then.
-- A case's quarter is that of the FDA quarterly file its current version came in, or of
-- its latest receipt date for a case whose current version came from the API. The drug
-- is the `drug_id` of the drugs mart where the suspect rows link to one, else the
-- normalised ingredient name.
-- One row per pair and quarter from the quarter its cumulative count reaches 3 (below 3
-- cases no pair is a signal) to the last quarter landed, quarters without new cases
-- included (the background moves). Signal as in `drug_reaction_signals`: PRR >= 2,
-- chi-square (Yates) >= 4 and at least 3 cases.

{{ config(indexes=[
    {'columns': ['drug_reaction_signal_quarter_id'], 'unique': True},
    {'columns': ['drug_id']},
    {'columns': ['ingredient_name']},
    {'columns': ['preferred_term']},
    {'columns': ['quarter']},
]) }}

with

reports as (
    select
        caseid,
        record_source,
        quarter,
        latest_received_date,
        loaded_at
    from {{ ref('adverse_event_reports') }}
),

drugs as (
    select
        caseid,
        is_suspect,
        ingredient_name,
        drug_id
    from {{ ref('adverse_event_drugs') }}
),

reactions as (
    select
        caseid,
        preferred_term_key
    from {{ ref('adverse_event_reactions') }}
),

case_quarters as (
    select
        caseid,
        case
            when record_source = 'faers_quarterly' then upper(quarter)
            else to_char(latest_received_date, 'YYYY"Q"Q')
        end as quarter,
        loaded_at
    from reports
),

case_drugs as (
    select distinct
        caseid,
        coalesce('drug:' || drug_id, 'name:' || ingredient_name) as drug_key,
        drug_id,
        case when drug_id is null then ingredient_name end as ingredient_name
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
    select
        case_quarters.caseid,
        case_quarters.quarter,
        case_quarters.loaded_at
    from case_quarters
    where case_quarters.quarter is not null
        and exists (
            select 1 from case_drugs
            where case_drugs.caseid = case_quarters.caseid
        )
        and exists (
            select 1 from case_terms
            where case_terms.caseid = case_quarters.caseid
        )
),

quarters as (
    select
        quarter,
        sum(count(*)) over (order by quarter) as n,
        max(loaded_at) as landed_at
    from counted_cases
    group by quarter
),

drug_quarter_cases as (
    select
        case_drugs.drug_key,
        counted_cases.quarter,
        count(*) as cases
    from case_drugs
    inner join counted_cases on counted_cases.caseid = case_drugs.caseid
    group by case_drugs.drug_key, counted_cases.quarter
),

term_quarter_cases as (
    select
        case_terms.preferred_term,
        counted_cases.quarter,
        count(*) as cases
    from case_terms
    inner join counted_cases on counted_cases.caseid = case_terms.caseid
    group by case_terms.preferred_term, counted_cases.quarter
),

pair_quarter_cases as (
    select
        case_drugs.drug_key,
        case_terms.preferred_term,
        counted_cases.quarter,
        count(*) as cases
    from case_drugs
    inner join case_terms on case_terms.caseid = case_drugs.caseid
    inner join counted_cases on counted_cases.caseid = case_drugs.caseid
    group by case_drugs.drug_key, case_terms.preferred_term, counted_cases.quarter
),

-- Each pair's running count, then every quarter from the one where it reaches 3.
pair_starts as (
    select
        drug_key,
        preferred_term,
        min(quarter) as first_quarter
    from (
        select
            drug_key,
            preferred_term,
            quarter,
            sum(cases) over (
                partition by drug_key, preferred_term order by quarter
            ) as running_cases
        from pair_quarter_cases
    ) as pair_running
    where running_cases >= 3
    group by drug_key, preferred_term
),

-- Running counts as window sums over every quarter (quarters without cases of the pair,
-- drug or term count 0), not a join of each quarter to every earlier one.
pair_cumulative as (
    select
        pair_starts.drug_key,
        pair_starts.preferred_term,
        pair_starts.first_quarter,
        quarters.quarter,
        quarters.n,
        quarters.landed_at,
        coalesce(pair_quarter_cases.cases, 0) as quarter_cases,
        sum(coalesce(pair_quarter_cases.cases, 0)) over (
            partition by pair_starts.drug_key, pair_starts.preferred_term
            order by quarters.quarter
        ) as pair_cases
    from pair_starts
    cross join quarters
    left join pair_quarter_cases
        on pair_quarter_cases.drug_key = pair_starts.drug_key
        and pair_quarter_cases.preferred_term = pair_starts.preferred_term
        and pair_quarter_cases.quarter = quarters.quarter
),

cumulative as (
    select * from pair_cumulative
    where quarter >= first_quarter
),

drug_names as (
    select distinct
        drug_key,
        drug_id,
        ingredient_name
    from case_drugs
),

-- Joined below on one key (drug and quarter together): on two, the planner, blind to
-- how many rows these steps make, merged on the drug alone and compared every quarter of
-- a drug with every other (more than 2 minutes at 100,000 cases).
drug_cumulative as (
    select
        drug_keys.drug_key || '|' || quarters.quarter as drug_quarter,
        sum(coalesce(drug_quarter_cases.cases, 0)) over (
            partition by drug_keys.drug_key order by quarters.quarter
        ) as drug_cases
    from (select distinct drug_key from pair_starts) as drug_keys
    cross join quarters
    left join drug_quarter_cases
        on drug_quarter_cases.drug_key = drug_keys.drug_key
        and drug_quarter_cases.quarter = quarters.quarter
),

term_cumulative as (
    select
        terms.preferred_term || '|' || quarters.quarter as term_quarter,
        sum(coalesce(term_quarter_cases.cases, 0)) over (
            partition by terms.preferred_term order by quarters.quarter
        ) as term_cases
    from (select distinct preferred_term from pair_starts) as terms
    cross join quarters
    left join term_quarter_cases
        on term_quarter_cases.preferred_term = terms.preferred_term
        and term_quarter_cases.quarter = quarters.quarter
),

two_by_two as (
    select
        cumulative.drug_key,
        cumulative.preferred_term,
        cumulative.quarter,
        cumulative.quarter_cases,
        cumulative.landed_at,
        drug_names.drug_id,
        drug_names.ingredient_name,
        cast(cumulative.pair_cases as numeric) as a,
        cast(drug_cumulative.drug_cases - cumulative.pair_cases as numeric) as b,
        cast(term_cumulative.term_cases - cumulative.pair_cases as numeric) as c,
        cast(
            cumulative.n - drug_cumulative.drug_cases - term_cumulative.term_cases
            + cumulative.pair_cases as numeric
        ) as d,
        cast(cumulative.n as numeric) as n
    from cumulative
    inner join drug_cumulative
        on drug_cumulative.drug_quarter = cumulative.drug_key || '|' || cumulative.quarter
    inner join term_cumulative
        on term_cumulative.term_quarter
        = cumulative.preferred_term || '|' || cumulative.quarter
    inner join drug_names on drug_names.drug_key = cumulative.drug_key
),

-- Materialised: each ratio is computed once per row (inlined, PostgreSQL would compute
-- it again wherever a later step names it, in numeric). The ratios and chi-square are
-- numeric (exact at the thresholds); the standard errors and the exp(ln(...)) of the
-- confidence bounds are double precision (15 significant digits; in numeric they took
-- a fifth of the model's time).
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

flagged as (
    select
        *,
        coalesce(prr >= 2 and chi_square_yates >= 4 and a >= 3, false) as is_signal
    from ratios
),

signals as (
    select
        md5(flagged.drug_key || '|' || flagged.preferred_term || '|' || flagged.quarter)
            as drug_reaction_signal_quarter_id,
        flagged.drug_id,
        flagged.ingredient_name,
        flagged.preferred_term,
        flagged.quarter,
        cast(flagged.quarter_cases as integer) as quarter_cases,
        cast(flagged.a as integer) as cumulative_cases,
        cast(flagged.a as integer) as a,
        cast(flagged.b as integer) as b,
        cast(flagged.c as integer) as c,
        cast(flagged.d as integer) as d,
        cast(flagged.n as integer) as total_cases,
        flagged.prr,
        case when flagged.prr > 0
                then cast(
                        exp(ln(cast(flagged.prr as double precision)) - 1.96 * flagged.prr_log_se)
                        as numeric
                    )
        end as prr_lower_95,
        flagged.ror,
        case when flagged.ror > 0
                then cast(
                        exp(ln(cast(flagged.ror as double precision)) - 1.96 * flagged.ror_log_se)
                        as numeric
                    )
        end as ror_lower_95,
        flagged.chi_square_yates,
        flagged.is_signal,
        flagged.landed_at as quarter_landed_at,
        min(flagged.quarter) filter (where flagged.is_signal) over (
            partition by flagged.drug_key, flagged.preferred_term
        ) as first_signal_quarter
    from flagged
),

final as (
    select
        *,
        coalesce(quarter = first_signal_quarter, false) as is_first_signal_quarter
    from signals
)

select * from final
