-- The ClinicalTrials.gov data-quality summary (one row per check), read into the run
-- summary. Every study lands as ClinicalTrials.gov wrote it: ids and codes of a shape
-- nobody expected are counted here (and warned about by the mart's tests), never dropped.
{{ data_quality_check(
    'clinicaltrials', 'NCT id shaped NCT and 8 digits',
    ref('clinical_trials'),
    'nct_id is not null', "nct_id ~ '^NCT[0-9]{8}$'",
) }}
union all
{{ data_quality_check(
    'clinicaltrials', 'overall status one of the API statuses',
    ref('clinical_trials'),
    'overall_status is not null',
    "overall_status in ('ACTIVE_NOT_RECRUITING', 'COMPLETED', 'ENROLLING_BY_INVITATION', "
    ~ "'NOT_YET_RECRUITING', 'RECRUITING', 'SUSPENDED', 'TERMINATED', 'WITHDRAWN', "
    ~ "'AVAILABLE', 'NO_LONGER_AVAILABLE', 'TEMPORARILY_NOT_AVAILABLE', "
    ~ "'APPROVED_FOR_MARKETING', 'WITHHELD', 'UNKNOWN')",
) }}
union all
{{ data_quality_check(
    'clinicaltrials', 'study type interventional, observational or expanded access',
    ref('clinical_trials'),
    'study_type is not null',
    "study_type in ('INTERVENTIONAL', 'OBSERVATIONAL', 'EXPANDED_ACCESS')",
) }}
union all
{{ data_quality_check(
    'clinicaltrials', 'phase one of the API phases (or two of them)',
    ref('clinical_trials'),
    'phase is not null',
    "phase in ('EARLY_PHASE1', 'PHASE1', 'PHASE2', 'PHASE3', 'PHASE4', 'NA', "
    ~ "'PHASE1/PHASE2', 'PHASE2/PHASE3')",
) }}
