-- hcpcs's last committed load, newest record and freshness thresholds, for
-- `marts.source_freshness`.

{{ source_loads('hcpcs', 'codes', 'release_year') }}
