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
        row_number() over (order by quarter) as quarter_number,
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
pair_running as (
    select
        *,
        sum(cases) over (
            partition by drug_key, preferred_term order by quarter
        ) as running_cases
    from pair_quarter_cases
),

pair_starts as (
    select
        drug_key,
        preferred_term,
        min(quarter) as first_quarter
    from pair_running
    where running_cases >= 3
    group by drug_key, preferred_term
),

pair_grid as (
    select
        pair_starts.drug_key,
        pair_starts.preferred_term,
        quarters.quarter,
        quarters.n
    from pair_starts
    inner join quarters on quarters.quarter >= pair_starts.first_quarter
),

cumulative as (
    select
        pair_grid.drug_key,
        pair_grid.preferred_term,
        pair_grid.quarter,
        coalesce(max(pair_quarter_cases.cases) filter (
            where pair_quarter_cases.quarter = pair_grid.quarter
        ), 0) as quarter_cases,
        sum(pair_quarter_cases.cases) as pair_cases,
        pair_grid.n
    from pair_grid
    inner join pair_quarter_cases
        on pair_quarter_cases.drug_key = pair_grid.drug_key
        and pair_quarter_cases.preferred_term = pair_grid.preferred_term
        and pair_quarter_cases.quarter <= pair_grid.quarter
    group by pair_grid.drug_key, pair_grid.preferred_term, pair_grid.quarter, pair_grid.n
),

drug_cumulative as (
    select
        cumulative.drug_key,
        cumulative.quarter,
        sum(drug_quarter_cases.cases) as drug_cases
    from (
        select distinct
            drug_key,
            quarter
        from cumulative
    ) as cumulative
    inner join drug_quarter_cases
        on drug_quarter_cases.drug_key = cumulative.drug_key
        and drug_quarter_cases.quarter <= cumulative.quarter
    group by cumulative.drug_key, cumulative.quarter
),

term_cumulative as (
    select
        cumulative.preferred_term,
        cumulative.quarter,
        sum(term_quarter_cases.cases) as term_cases
    from (
        select distinct
            preferred_term,
            quarter
        from cumulative
    ) as cumulative
    inner join term_quarter_cases
        on term_quarter_cases.preferred_term = cumulative.preferred_term
        and term_quarter_cases.quarter <= cumulative.quarter
    group by cumulative.preferred_term, cumulative.quarter
),

two_by_two as (
    select
        cumulative.drug_key,
        cumulative.preferred_term,
        cumulative.quarter,
        cumulative.quarter_cases,
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
        on drug_cumulative.drug_key = cumulative.drug_key
        and drug_cumulative.quarter = cumulative.quarter
    inner join term_cumulative
        on term_cumulative.preferred_term = cumulative.preferred_term
        and term_cumulative.quarter = cumulative.quarter
),

ratios as (
    select
        *,
        case when c > 0 then (a / (a + b)) / (c / (c + d)) end as prr,
        case when c > 0 and c + d > 0
                then sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
        end as prr_log_se,
        case when b > 0 and c > 0 then (a * d) / (b * c) end as ror,
        case when b > 0 and c > 0 and d > 0
                then sqrt(1 / a + 1 / b + 1 / c + 1 / d)
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

drug_names as (
    select distinct
        drug_key,
        drug_id,
        ingredient_name
    from case_drugs
),

signals as (
    select
        md5(flagged.drug_key || '|' || flagged.preferred_term || '|' || flagged.quarter)
            as drug_reaction_signal_quarter_id,
        drug_names.drug_id,
        drug_names.ingredient_name,
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
                then exp(ln(flagged.prr) - 1.96 * flagged.prr_log_se)
        end as prr_lower_95,
        flagged.ror,
        case when flagged.ror > 0
                then exp(ln(flagged.ror) - 1.96 * flagged.ror_log_se)
        end as ror_lower_95,
        flagged.chi_square_yates,
        flagged.is_signal,
        quarters.landed_at as quarter_landed_at,
        min(flagged.quarter) filter (where flagged.is_signal) over (
            partition by flagged.drug_key, flagged.preferred_term
        ) as first_signal_quarter
    from flagged
    inner join drug_names on drug_names.drug_key = flagged.drug_key
    inner join quarters on quarters.quarter = flagged.quarter
),

final as (
    select
        *,
        coalesce(quarter = first_signal_quarter, false) as is_first_signal_quarter
    from signals
)

select * from final
