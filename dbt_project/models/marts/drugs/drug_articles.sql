-- One row per PubMed chemical (of a current article) linked to a drug, with the method
-- that linked it (its UNII registry number, else its substance name) and the article.

{{ config(
    indexes=[
        {'columns': ['article_chemical_id'], 'unique': True},
        {'columns': ['drug_id']},
        {'columns': ['pmid']},
    ],
) }}

with

matches as (
    select * from {{ ref('int_article_chemical_drug_matches') }}
),

articles as (
    select
        pmid,
        title,
        journal_title,
        publication_date,
        publication_year
    from {{ ref('pubmed_articles') }}
),

linked as (
    select
        matches.article_chemical_id,
        matches.drug_id,
        matches.pmid,
        matches.substance_name,
        matches.registry_number,
        matches.registry_number_type,
        matches.link_method,
        matches.matched_value,
        articles.title,
        articles.journal_title,
        articles.publication_date,
        articles.publication_year
    from matches
    left join articles on matches.pmid = articles.pmid
    where matches.outcome = 'linked'
)

select * from linked
