with

source as (
    select
        landed.pmid,
        landed.deleted,
        landed.date_revised,
        landed._dlt_load_id,
        landed.source_uri,
        document.record,
        jsonb_path_query_first(
            document.record -> 'history', '$[*] ? (@.status == "entrez").date'
        ) #>> '{}' as entrez_date
    from {{ source('pubmed', 'articles') }} as landed
    cross join lateral ({{ detoast('landed.record') }}) as document
),

renamed as (
    select
        pmid,
        coalesce({{ safe_integer("record ->> 'version'") }}, 1) as pmid_version,
        deleted as is_deletion_notice,
        date_revised,
        {{ partial_date("record ->> 'date_completed'") }} as date_completed,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri,
        record ->> 'status' as citation_status,
        record ->> 'publication_status' as publication_status,
        record ->> 'title' as title,
        record ->> 'vernacular_title' as vernacular_title,
        -- The abstract's sections in order, each after its label ("METHODS: ...").
        (
            select
                string_agg(
                    concat_ws(
                        ': ', abstract_section.item ->> 'label',
                        abstract_section.item ->> 'text'
                    ),
                    chr(10) order by abstract_section.position
                )
            from jsonb_array_elements(
                    {{ json_array("record -> 'abstract'") }}
                ) with ordinality as abstract_section (item, position)
        ) as abstract,
        record #>> '{journal,title}' as journal_title,
        record #>> '{journal,iso_abbreviation}' as journal_abbreviation,
        record #>> '{journal,issn}' as journal_issn,
        record #>> '{journal,issn_linking}' as journal_issn_linking,
        record #>> '{journal,nlm_unique_id}' as journal_nlm_id,
        record #>> '{journal,country}' as journal_country,
        record #>> '{journal,volume}' as volume,
        record #>> '{journal,issue}' as issue,
        record ->> 'pagination' as pages,
        {{ partial_date("record #>> '{journal,pub_date,date}'") }} as publication_date,
        -- When the citation entered PubMed (its Entrez date, PubMedPubDate "entrez").
        {{ partial_date('entrez_date') }} as entry_date,
        cast(
            {{ safe_integer("left(record #>> '{journal,pub_date,date}', 4)") }} as smallint
        ) as publication_year,
        -- "Hooper SR" as PubMed cites an author; a group under its collective name.
        array(
            select
                coalesce(
                    author.item ->> 'collective_name',
                    concat_ws(' ', author.item ->> 'last_name', author.item ->> 'initials')
                )
            from jsonb_array_elements(
                    {{ json_array("record -> 'authors'") }}
                ) with ordinality as author (item, position)
            order by author.position
        ) as authors,
        record -> 'authors' as author_details,
        {{ json_text_array("record -> 'languages'") }} as languages,
        {{ json_field_array("record -> 'publication_types'", 'name') }} as publication_types,
        record -> 'mesh_headings' as mesh_headings,
        {{ json_field_array("record -> 'mesh_headings'", 'descriptor_name') }} as mesh_terms,
        {{ json_field_array("record -> 'keywords'", 'keyword') }} as keywords,
        {{ json_field_array("record -> 'chemicals'", 'name') }} as chemicals,
        record -> 'chemicals' as chemical_details,
        record -> 'grants' as grants,
        jsonb_path_query_first(
            record -> 'article_ids', '$[*] ? (@.type == "doi").value'
        ) #>> '{}' as doi,
        jsonb_path_query_first(
            record -> 'article_ids', '$[*] ? (@.type == "pmc").value'
        ) #>> '{}' as pmc_id,
        -- The ClinicalTrials.gov registry numbers of the DataBankList (NCT ids as given).
        array(
            select accession #>> '{}'
            from jsonb_path_query(
                    record -> 'databanks',
                    '$[*] ? (@.name == "ClinicalTrials.gov").accession_numbers[*]'
                ) as accession
        ) as clinicaltrials_accession_numbers
    from source
)

select * from renamed
