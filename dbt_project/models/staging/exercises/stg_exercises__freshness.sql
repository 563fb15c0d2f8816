-- exercises's last committed load, newest record and freshness thresholds, for
-- `marts.source_freshness`.

{{ source_loads('exercises', 'exercises', 'release_seen_at') }}
