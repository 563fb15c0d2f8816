with

source as (
    select
        landed.nct_id,
        landed.deleted,
        landed.last_update_post_date,
        landed._dlt_load_id,
        landed.source_uri,
        document.record
    from {{ source('clinicaltrials', 'studies') }} as landed
    cross join lateral ({{ detoast('landed.record') }}) as document
),

renamed as (
    select
        nct_id,
        deleted as is_deletion_notice,
        last_update_post_date,
        {{ loaded_at() }} as loaded_at,
        _dlt_load_id as load_id,
        source_uri,
        record #>> '{protocolSection,identificationModule,briefTitle}' as brief_title,
        record #>> '{protocolSection,identificationModule,officialTitle}' as official_title,
        record #>> '{protocolSection,identificationModule,acronym}' as acronym,
        record #>> '{protocolSection,identificationModule,orgStudyIdInfo,id}' as org_study_id,
        record #>> '{protocolSection,statusModule,overallStatus}' as overall_status,
        record #>> '{protocolSection,designModule,studyType}' as study_type,
        {{ json_text_array("record #> '{protocolSection,designModule,phases}'") }} as phases,
        {{ partial_date("record #>> '{protocolSection,statusModule,startDateStruct,date}'") }}
            as start_date,
        {{ partial_date(
            "record #>> '{protocolSection,statusModule,primaryCompletionDateStruct,date}'"
        ) }} as primary_completion_date,
        {{ partial_date(
            "record #>> '{protocolSection,statusModule,completionDateStruct,date}'"
        ) }} as completion_date,
        {{ partial_date(
            "record #>> '{protocolSection,statusModule,studyFirstPostDateStruct,date}'"
        ) }} as first_posted_date,
        {{ partial_date(
            "record #>> '{protocolSection,statusModule,resultsFirstPostDateStruct,date}'"
        ) }} as results_first_posted_date,
        {{ safe_integer(
            "record #>> '{protocolSection,designModule,enrollmentInfo,count}'"
        ) }} as enrollment_count,
        record #>> '{protocolSection,designModule,enrollmentInfo,type}' as enrollment_type,
        record #>> '{protocolSection,sponsorCollaboratorsModule,leadSponsor,name}'
            as lead_sponsor_name,
        record #>> '{protocolSection,sponsorCollaboratorsModule,leadSponsor,class}'
            as lead_sponsor_class,
        {{ json_text_array("record #> '{protocolSection,conditionsModule,conditions}'") }}
            as conditions,
        {{ json_text_array("record #> '{protocolSection,conditionsModule,keywords}'") }}
            as keywords,
        record #> '{protocolSection,armsInterventionsModule,interventions}' as interventions,
        record #>> '{protocolSection,descriptionModule,briefSummary}' as brief_summary,
        {{ safe_boolean("record ->> 'hasResults'") }} as has_results,
        {{ partial_date("record #>> '{protocolSection,statusModule,resultsFirstSubmitDate}'") }}
            as results_first_submitted_date,
        {{ partial_date(
            "record #>> '{protocolSection,statusModule,resultsFirstSubmitQcDate}'"
        ) }} as results_first_qc_date,
        record #>> '{protocolSection,statusModule,lastKnownStatus}' as last_known_status,
        record #>> '{protocolSection,eligibilityModule,minimumAge}' as minimum_age,
        record #>> '{protocolSection,eligibilityModule,maximumAge}' as maximum_age,
        {{ age_in_years("record #>> '{protocolSection,eligibilityModule,minimumAge}'") }}
            as minimum_age_years,
        {{ age_in_years("record #>> '{protocolSection,eligibilityModule,maximumAge}'") }}
            as maximum_age_years,
        record #>> '{protocolSection,eligibilityModule,sex}' as sex,
        {{ safe_boolean("record #>> '{protocolSection,eligibilityModule,healthyVolunteers}'") }}
            as is_accepting_healthy_volunteers,
        {{ json_text_array("record #> '{protocolSection,eligibilityModule,stdAges}'") }}
            as standard_age_groups,
        record #>> '{protocolSection,eligibilityModule,eligibilityCriteria}'
            as eligibility_criteria,
        record #> '{protocolSection,contactsLocationsModule,locations}' as locations,
        record #> '{protocolSection,outcomesModule,primaryOutcomes}' as primary_outcomes,
        record #> '{protocolSection,outcomesModule,secondaryOutcomes}' as secondary_outcomes,
        record #> '{protocolSection,outcomesModule,otherOutcomes}' as other_outcomes,
        record #> '{protocolSection,referencesModule,references}' as study_references
    from source
)

select * from renamed
