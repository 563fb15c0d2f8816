{#- dbt's `should_full_refresh()`, and one more reason to rebuild an incremental model in
    full: its table lacks a column the model's documentation (its yml) lists. Such a table
    was built by an earlier release: before the model became incremental (no watermark
    such as `last_landed_at` for its hooks to read), or before the column was added (an
    incremental build would leave it empty in every row built before). An upgraded
    warehouse then rebuilds it on its next plain build, as `--full-refresh` would.

    This macro overrides dbt's own (a root project's macro of the same name comes first),
    which `is_incremental()` and the incremental materialization both ask: the model's
    SQL, its hooks and the materialization take the full path together (a new table built
    and swapped in). A model configured with `full_refresh` keeps that setting. -#}
{% macro should_full_refresh() %}
    {% set refresh = dbt.should_full_refresh() %}
    {% if refresh
        or not execute
        or model.resource_type != 'model'
        or config.get('materialized') != 'incremental'
        or config.get('full_refresh') is not none %}
        {{ return(refresh) }}
    {% endif %}
    {% set built = adapter.get_columns_in_relation(this)
        | map(attribute='name') | map('lower') | list %}
    {% set missing = [] %}
    {% for column in model.columns if built and column | lower not in built %}
        {% do missing.append(column) %}
    {% endfor %}
    {% if missing %}
        {% do log(this ~ ' rebuilt in full: its table lacks ' ~ missing | join(', '), info=false) %}
    {% endif %}
    {{ return(missing | length > 0) }}
{% endmacro %}
