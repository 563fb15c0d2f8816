-- Analysed after each build: the search function reads the planner's match estimates.
{{ config(
    post_hook=[
        "analyze {{ this }}",
        "{{ create_search_function(
            columns=[
                ('topic_id', 'text'),
                ('title', 'text'),
                ('language', 'text'),
                ('url', 'text'),
                ('mesh_terms', 'text[]'),
                ('date_created', 'date'),
            ],
            year='created_year',
            prior='date_created',
        ) }}",
    ],
    indexes=[
        {'columns': ['topic_id'], 'unique': True},
        {'columns': ['search_vector', 'created_year'], 'type': 'gin'},
        {'columns': ['date_created']},
    ],
) }}

with

topics as (
    select * from {{ ref('int_health_topics_current') }}
),

shaped as (
    select
        topic_id,
        language,
        title,
        url,
        date_created,
        cast(extract(year from date_created) as smallint) as created_year,
        meta_description,
        summary_text,
        summary_html,
        also_called,
        see_references,
        group_names,
        mesh_terms,
        mesh_descriptor_ids,
        related_topics,
        related_topic_ids,
        language_mapped_topic_id,
        language_mapped_title,
        primary_institute,
        primary_institute_url,
        jsonb_array_length(sites) as site_count,
        sites,
        file_date
    from topics
),

searchable as (
    select
        *,
        {{ search_vector({
            'A': ['title', "array_to_string(also_called, ' ')"],
            'B': ["array_to_string(mesh_terms, ' ')", "array_to_string(see_references, ' ')"],
            'C': ['summary_text', 'meta_description'],
            'D': ["array_to_string(group_names, ' ')", 'primary_institute'],
        }) }} as search_vector
    from shaped
)

select * from searchable
