{#- The `where` of a data test on a staging view of landed rows (rows that never change
    once landed, keyed with their `load_id`), in `dbt build`: only the rows landed after
    the newest one `checked_by` holds. `checked_by` (schema, table) is an incremental
    model that reads the view and holds `last_landed_at`: `dbt build` builds it only
    after the view's tests passed, so every row it had seen was checked then, by the
    whole test or by this filter. A failed test leaves it unbuilt, and its rows are
    checked again on the next build. Uniqueness keys that include `load_id` compare rows
    of one load only, so checking the new loads alone is the same check.

    Every row is checked by `dbt test`, `--full-refresh`, and while `checked_by` does not
    exist or lacks `last_landed_at`.
    Not by this filter: a model built by `dbt run` (or selected without the view's tests)
    advances `checked_by` untested; build with `dbt build` (as `medmirror refresh` does),
    or `dbt test` once after such a run. -#}
{% macro untested_landings(checked_by, loaded_at='loaded_at') -%}
    {%- set relation = none -%}
    {%- if execute and flags.WHICH == 'build' and not flags.FULL_REFRESH -%}
        {%- set relation = adapter.get_relation(
            database=target.database, schema=checked_by[0], identifier=checked_by[1]
        ) -%}
    {%- endif -%}
    {#- a table built by an earlier release, before it had the watermark: check all -#}
    {%- if relation is not none and 'last_landed_at' not in (
        adapter.get_columns_in_relation(relation) | map(attribute='name') | list
    ) -%}
        {%- set relation = none -%}
    {%- endif -%}
    {%- if relation is not none -%}
        {{ loaded_at }} > (
            select coalesce(max(last_landed_at), '-infinity') from {{ relation }}
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
