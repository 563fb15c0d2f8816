-- clinicaltrials's last committed load, newest record and freshness thresholds, for
-- `marts.source_freshness`.

{{ config(tags=['freshness']) }}

{{ source_loads('clinicaltrials', 'studies', 'last_update_post_date') }}
