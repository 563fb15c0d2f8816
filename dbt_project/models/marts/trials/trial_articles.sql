-- One row per trial and PubMed article linked by either publisher: the study's
-- references (a PMID with its type) and the citation's DataBankList (an NCT id).
-- `link_method` says which side states it (`both` when both do). Links to a study or
-- citation medmirror does not mirror are kept (`is_trial_mirrored`,
-- `is_article_mirrored`): the other side names them.

{{ config(
    indexes=[
        {'columns': ['trial_article_id'], 'unique': True},
        {'columns': ['nct_id']},
        {'columns': ['pmid']},
    ],
) }}

with

links as (
    select * from {{ ref('int_trial_article_links') }}
    where is_current
),

trials as (
    select
        nct_id,
        brief_title
    from {{ ref('clinical_trials') }}
),

articles as (
    select
        pmid,
        title,
        publication_date
    from {{ ref('pubmed_articles') }}
),

pairs as (
    select
        nct_id,
        pmid,
        case
            when count(distinct link_method) > 1 then 'both'
            else min(link_method)
        end as link_method,
        min(reference_type) as reference_type,
        min(citation) as citation
    from links
    group by nct_id, pmid
),

trial_articles as (
    select
        pairs.nct_id || '-' || pairs.pmid as trial_article_id,
        pairs.nct_id,
        pairs.pmid,
        pairs.link_method,
        pairs.reference_type,
        pairs.citation,
        trials.brief_title,
        articles.title as article_title,
        articles.publication_date as article_publication_date,
        trials.nct_id is not null as is_trial_mirrored,
        articles.pmid is not null as is_article_mirrored
    from pairs
    left join trials
        on pairs.nct_id = trials.nct_id
    left join articles
        on pairs.pmid = articles.pmid
)

select * from trial_articles
