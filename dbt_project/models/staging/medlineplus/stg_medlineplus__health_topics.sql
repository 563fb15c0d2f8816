-- One row per landed health topic of every landed file, typed out of `record`.
with

source as (
    select * from {{ source('medlineplus', 'health_topics') }}
),

documents as (
    select
        source.*,
        document.record as parsed
    from source
    cross join lateral ({{ detoast('source.record') }}) as document
),

renamed as (
    select
        topic_id,
        language,
        parsed ->> 'title' as title,
        parsed ->> 'url' as url,
        case
            when parsed ->> 'date_created' ~ '^\d{2}/\d{2}/\d{4}$'
                then to_date(parsed ->> 'date_created', 'MM/DD/YYYY')
        end as date_created,
        parsed ->> 'meta_desc' as meta_description,
        parsed ->> 'summary_text' as summary_text,
        parsed ->> 'full_summary' as summary_html,
        {{ json_text_array("parsed -> 'also_called'") }} as also_called,
        {{ json_text_array("parsed -> 'see_references'") }} as see_references,
        {{ json_field_array("parsed -> 'groups'", 'name') }} as group_names,
        {{ json_field_array("parsed -> 'groups'", 'id') }} as group_ids,
        {{ json_field_array("parsed -> 'mesh_headings'", 'descriptor') }} as mesh_terms,
        {{ json_field_array("parsed -> 'mesh_headings'", 'descriptor_id') }}
            as mesh_descriptor_ids,
        {{ json_field_array("parsed -> 'related_topics'", 'name') }} as related_topics,
        {{ json_field_array("parsed -> 'related_topics'", 'id') }} as related_topic_ids,
        parsed #>> '{language_mapped_topics,0,id}' as language_mapped_topic_id,
        parsed #>> '{language_mapped_topics,0,name}' as language_mapped_title,
        parsed #>> '{primary_institute,name}' as primary_institute,
        parsed #>> '{primary_institute,url}' as primary_institute_url,
        coalesce(parsed -> 'sites', '[]'::jsonb) as sites,
        file_date,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri
    from documents
)

select * from renamed
