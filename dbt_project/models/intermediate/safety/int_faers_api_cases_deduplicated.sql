-- The current version of every case landed from openFDA's /drug/event.json: the highest
-- safetyreportversion, then the latest receipt date, then the latest landing.

{{ current_versions(
    ref('stg_faers__events'),
    key='caseid',
    newest_first='safety_report_version desc nulls last, '
        ~ 'latest_received_date desc nulls last, loaded_at desc',
) }}
