-- One row per food: its most complete landed record (full, then abridged, then a search
-- result), the latest landed among equals. FDC publishes a changed food under a new
-- fdcId, so the versions of one id differ only in shape.

{{ current_versions(
    ref('stg_fooddata__foods'),
    key='fdc_id',
    newest_first='format_rank, loaded_at desc',
) }}
