{#- The rows of a DrugCentral staging view that belong to the newest release landed, one
    per `key` (its latest landing): a release replaces the previous one whole, so a row
    missing from it is gone. -#}
{% macro drugcentral_current(relation, key) -%}
    select distinct on ({{ key }}) *
    from {{ relation }}
    where db_version = (select max(db_version) from {{ ref('stg_drugcentral__releases') }})
    order by {{ key }}, loaded_at desc
{%- endmacro %}
