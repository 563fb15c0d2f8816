-- The current version of every FAERS case landed from the quarterly files, by FDA's
-- rule: a FAERS version (from 2012Q4) is newer than any legacy AERS one; among FAERS
-- versions the latest FDA receipt date (fda_dt), then the highest primaryid; among legacy
-- versions the highest ISR. `is_deleted`: a deleted-case list named the case after its
-- latest version landed (quarters land oldest first).

{{ current_versions(
    ref('int_faers_case_landings'),
    key='caseid',
    newest_first="(layout = 'faers') desc, "
        ~ "case when layout = 'faers' then fda_received_date end desc nulls last, "
        ~ "primaryid_number desc nulls last, loaded_at desc",
) }}
