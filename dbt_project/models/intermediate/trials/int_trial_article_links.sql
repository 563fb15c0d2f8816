-- Every trial-article link either side states: a ClinicalTrials.gov study's reference to
-- a PMID (with its type: BACKGROUND, RESULT, DERIVED), and a PubMed citation's
-- DataBankList naming an NCT id. One row per trial, article and link method. Links of a
-- deleted study or citation stay, not current, so the marts that count links rebuild the
-- keys whose links went away (`linked_at`: when either side last landed).

with

studies as (
    select * from {{ ref('int_studies_deduplicated') }}
),

articles as (
    select * from {{ ref('int_articles_deduplicated') }}
),

study_references as (
    select
        studies.nct_id,
        trim(reference.item ->> 'pmid') as pmid,
        'clinicaltrials_reference' as link_method,
        reference.item ->> 'type' as reference_type,
        reference.item ->> 'citation' as citation,
        not studies.is_deleted as is_current,
        studies.last_landed_at as linked_at,
        reference.position
    from studies
    cross join
        lateral jsonb_array_elements(
            {{ json_array('studies.study_references') }}
        ) with ordinality as reference (item, position)
    where trim(reference.item ->> 'pmid') ~ '^[0-9]{1,9}$'
),

-- A study may cite the same PMID twice (as BACKGROUND and RESULT): its first reference.
first_references as (
    select distinct on (nct_id, pmid) *
    from study_references
    order by nct_id, pmid, position
),

article_databanks as (
    select distinct on (nct_id, articles.pmid)
        upper(trim(accession.number)) as nct_id,
        articles.pmid,
        'pubmed_databank' as link_method,
        cast(null as text) as reference_type,
        cast(null as text) as citation,
        not articles.is_deleted as is_current,
        articles.last_landed_at as linked_at
    from articles
    cross join lateral unnest(articles.clinicaltrials_accession_numbers) as accession (number)
    where upper(trim(accession.number)) ~ '^NCT[0-9]{8}$'
    order by nct_id, articles.pmid
),

links as (
    select
        nct_id,
        pmid,
        link_method,
        reference_type,
        citation,
        is_current,
        linked_at
    from first_references
    union all
    select
        nct_id,
        pmid,
        link_method,
        reference_type,
        citation,
        is_current,
        linked_at
    from article_databanks
)

select * from links
