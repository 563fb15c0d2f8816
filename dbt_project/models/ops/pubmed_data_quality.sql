-- The PubMed data-quality summary (one row per check), read into the run summary. Every
-- citation lands as NLM wrote it: identifiers of a shape nobody expected are counted here
-- (and warned about by the marts' tests), never dropped.
{{ data_quality_check(
    'pubmed', 'PMID is a number (1 to 10 digits)',
    ref('pubmed_articles'),
    'pmid is not null', "pmid ~ '^[1-9][0-9]{0,9}$'",
) }}
union all
{{ data_quality_check(
    'pubmed', 'PMC id shaped PMC and digits (and .version for a versioned article)',
    ref('pubmed_articles'),
    'pmc_id is not null', "pmc_id ~ '^PMC[0-9]+(\\.[0-9]+)?$'",
) }}
union all
{{ data_quality_check(
    'pubmed', 'MeSH descriptor id shaped D and 6 to 9 digits',
    ref('article_mesh_terms'),
    'descriptor_ui is not null', "descriptor_ui ~ '^D[0-9]{6,9}$'",
) }}
union all
{{ data_quality_check(
    'pubmed', 'ORCID iD shaped 0000-0000-0000-000X',
    ref('article_authors'),
    'orcid is not null', "orcid ~ '^[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]$'",
) }}
union all
{{ data_quality_check(
    'pubmed', 'article has a publication date',
    ref('pubmed_articles'),
    'pmid is not null', 'publication_date is not null',
) }}
