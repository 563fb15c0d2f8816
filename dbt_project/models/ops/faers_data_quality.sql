-- The FAERS data-quality summary (one row per check), read into the run summary. Every
-- value of the quarterly files lands as FDA wrote it: keys and codes of a shape nobody
-- expected are counted here (and warned about by the staging tests), never dropped. A
-- report without a case id cannot be a case of the marts: it is counted here too.
{{ data_quality_check(
    'faers', 'report has a case id',
    ref('stg_faers__reports'),
    'primaryid is not null', "caseid is not null and caseid <> ''",
) }}
union all
{{ data_quality_check(
    'faers', 'report id (primaryid, legacy ISR) is a number',
    ref('stg_faers__reports'),
    'primaryid is not null', "primaryid ~ '^[0-9]+$'",
) }}
union all
{{ data_quality_check(
    'faers', 'FDA received date read (fda_dt YYYYMMDD)',
    ref('stg_faers__reports'),
    'primaryid is not null', 'fda_received_date is not null',
) }}
union all
{{ data_quality_check(
    'faers', 'drug role code PS, SS, C or I',
    ref('stg_faers__drugs'),
    'role_code is not null', "role_code in ('PS', 'SS', 'C', 'I')",
) }}
union all
{{ data_quality_check(
    'faers', 'outcome code DE, LT, HO, DS, CA, RI or OT',
    ref('stg_faers__outcomes'),
    'outcome_code is not null', "outcome_code in ('DE', 'LT', 'HO', 'DS', 'CA', 'RI', 'OT')",
) }}
union all
{{ data_quality_check(
    'faers', 'reaction has a preferred term',
    ref('stg_faers__reactions'),
    'primaryid is not null', 'preferred_term is not null',
) }}
union all
{{ data_quality_check(
    'faers', 'deleted case id is a number',
    ref('stg_faers__deleted_cases'),
    'caseid is not null', "caseid ~ '^[0-9]+$'",
) }}
