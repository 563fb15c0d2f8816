{#- Per drug: the trials (`marts.drug_trials`), articles (`marts.drug_articles`) and
    adverse event cases (`marts.adverse_event_drugs`) linked to it, from whichever of those
    marts exist (a missing one counts 0). Read by name, not `ref`: the link marts are built
    from the drug intermediates, so the `drugs` mart cannot depend on them; each link mart
    refreshes its count on `drugs` after it builds (`update_drug_link_counts`). -#}
{% macro drug_link_counts() -%}
    {%- set parts = [
        ('drug_trials', 'nct_id', 'linked_trial_count'),
        ('drug_articles', 'pmid', 'linked_article_count'),
        ('adverse_event_drugs', 'caseid', 'adverse_event_case_count'),
    ] -%}
    select
        drug_id,
        {%- for _, _, column in parts %}
        cast(sum({{ column }}) as integer) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        select cast(null as text) as drug_id
        {%- for _, _, column in parts %}, 0 as {{ column }}{% endfor %}
        where false
        {%- for identifier, key, column in parts %}
        {%- set found = adapter.get_relation(
            database=target.dbname, schema='marts', identifier=identifier
        ) if execute else none %}
        {%- if found %}
        union all
        select
            drug_id
            {%- for _, _, other in parts %},
            {{ 'count(distinct ' ~ key ~ ')' if other == column else '0' }} as {{ other }}
            {%- endfor %}
        from {{ found }}
        where drug_id is not null
        group by drug_id
        {%- endif %}
        {%- endfor %}
    ) as counted
    group by drug_id
{%- endmacro %}

{#- After a link mart builds (a post-hook): set its count column on every drug of
    `marts.drugs`, when that exists. Checked when it runs (`to_regclass`), not when dbt
    compiles: the link marts build in parallel. They depend on `drugs` (`depends_on`), so
    a build that rebuilds `drugs` refreshes the counts after it. -#}
{% macro update_drug_link_counts(identifier, key, column) -%}
do $counts$
begin
    if to_regclass('marts.drugs') is not null and to_regclass('marts.{{ identifier }}') is not null
    then
        update marts.drugs
        set {{ column }} = coalesce((
            select count(distinct linked.{{ key }})
            from marts.{{ identifier }} as linked
            where linked.drug_id = drugs.drug_id
        ), 0);
    end if;
end
$counts$
{%- endmacro %}
