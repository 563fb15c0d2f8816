-- pubmed's last committed load, newest record and freshness thresholds, for
-- `marts.source_freshness`.

{{ config(tags=['freshness']) }}

{{ source_loads('pubmed', 'articles', 'date_revised') }}
