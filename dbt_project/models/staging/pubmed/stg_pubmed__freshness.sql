-- pubmed's last committed load, newest record and freshness thresholds, for
-- `marts.source_freshness`.

{{ source_loads('pubmed', 'articles', 'date_revised') }}
