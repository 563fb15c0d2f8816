-- The MedlinePlus data-quality summary (one row per check), read into the run summary.
-- Topics land as NLM wrote them: a language or id of a shape nobody expected is counted
-- here (and warned about by the mart's test), never dropped.
{{ data_quality_check(
    'medlineplus', 'language English or Spanish',
    ref('health_topics'),
    'language is not null', "language in ('English', 'Spanish')",
) }}
union all
{{ data_quality_check(
    'medlineplus', 'topic id is a number',
    ref('health_topics'),
    'topic_id is not null', "topic_id ~ '^[0-9]+$'",
) }}
union all
{{ data_quality_check(
    'medlineplus', 'topic has a title and a summary',
    ref('health_topics'),
    'title is not null', 'summary_text is not null',
) }}
