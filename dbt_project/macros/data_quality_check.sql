{#- One row of a source's data-quality summary: how many rows of `relation` the check saw,
    how many are complete (`complete`: a SQL condition) and valid (`valid`), and the
    shares. The `ops.<source>_data_quality` models union one per check. -#}
{% macro data_quality_check(source_name, check_name, relation, complete, valid) -%}
    select
        cast('{{ source_name }}' as text) as source,
        cast('{{ check_name }}' as text) as check_name,
        count(*) as rows_checked,
        count(*) filter (where {{ complete }}) as rows_complete,
        count(*) filter (where {{ valid }}) as rows_valid,
        round(
            cast(count(*) filter (where {{ complete }}) as numeric) / nullif(count(*), 0), 4
        ) as completeness,
        round(
            cast(count(*) filter (where {{ valid }}) as numeric) / nullif(count(*), 0), 4
        ) as valid_share,
        now() as checked_at
    from {{ relation }}
{%- endmacro %}
