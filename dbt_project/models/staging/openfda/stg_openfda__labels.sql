-- sqlfluff cannot indent the body of a Jinja loop here: layout left to the author.
-- noqa: disable=LT02
-- Every landed openFDA label version: ids, dates, the `openfda` harmonised fields as text
-- arrays, and each documented section (an array of paragraphs in `record`) as one text,
-- paragraphs separated by a line break.

{%- set sections = [
    'boxed_warning', 'indications_and_usage', 'dosage_and_administration',
    'dosage_forms_and_strengths', 'contraindications', 'warnings_and_cautions',
    'warnings', 'precautions', 'adverse_reactions', 'drug_interactions',
    'use_in_specific_populations', 'pregnancy', 'teratogenic_effects',
    'nursing_mothers', 'lactation', 'pediatric_use', 'geriatric_use',
    'mechanism_of_action', 'clinical_pharmacology', 'description', 'overdosage',
    'how_supplied', 'purpose', 'active_ingredient', 'inactive_ingredient',
] %}
{%- set openfda_arrays = {
    'brand_name': 'brand_names', 'generic_name': 'generic_names',
    'manufacturer_name': 'manufacturer_names', 'product_ndc': 'product_ndcs',
    'package_ndc': 'package_ndcs', 'substance_name': 'substance_names',
    'unii': 'uniis', 'rxcui': 'rxcuis', 'application_number': 'application_numbers',
    'pharm_class_epc': 'pharm_classes_epc', 'pharm_class_moa': 'pharm_classes_moa',
    'pharm_class_pe': 'pharm_classes_pe', 'pharm_class_cs': 'pharm_classes_cs',
    'route': 'routes', 'product_type': 'product_types',
} %}

with

source as (
    select
        landed.set_id,
        landed.version,
        landed.effective_time,
        landed.deleted,
        landed._dlt_load_id,
        landed.source_uri,
        document.record
    from {{ source('openfda', 'labels') }} as landed
    cross join lateral ({{ detoast('landed.record') }}) as document
),

renamed as (
    select
        set_id,
        record ->> 'id' as spl_id,
        {{ safe_integer('version') }} as version_number,
        effective_time as effective_date,
        nullif(record ->> 'effective_time', '') as effective_time_text,
        deleted as is_deletion_notice,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri,
        {%- for field, column in openfda_arrays.items() %}
        {{ json_text_array("record #> '{openfda," ~ field ~ "}'") }} as {{ column }},
        {%- endfor %}
        {%- for section in sections %}
        nullif(
            array_to_string({{ json_text_array("record -> '" ~ section ~ "'") }}, chr(10)),
            ''
        ) as {{ section }}{{ ',' if not loop.last }}
        {%- endfor %}
    from source
)

select * from renamed
