-- dailymed's last committed load, newest record and freshness thresholds, for
-- `marts.source_freshness`.

{{ config(tags=['freshness']) }}

{{ source_loads('dailymed', 'labels', 'effective_time') }}
