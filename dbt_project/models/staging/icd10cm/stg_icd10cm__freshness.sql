-- icd10cm's last committed load, newest record and freshness thresholds, for
-- `marts.source_freshness`.

{{ config(tags=['freshness']) }}

{{ source_loads('icd10cm', 'order_codes', 'release_year') }}
