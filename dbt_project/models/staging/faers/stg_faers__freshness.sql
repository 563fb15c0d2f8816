-- faers's last committed load, newest record and freshness thresholds, for
-- `marts.source_freshness`.

{{ config(tags=['freshness']) }}

{{ source_loads('faers', 'demo', 'fda_dt') }}
