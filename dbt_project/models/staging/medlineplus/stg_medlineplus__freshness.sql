-- medlineplus's last committed load, newest record and freshness thresholds, for
-- `marts.source_freshness`.

{{ config(tags=['freshness']) }}

{{ source_loads('medlineplus', 'health_topics', 'file_date') }}
