{#- Per drug: the trials (`marts.drug_trials`), articles (`marts.drug_articles`) and
    adverse event cases (`marts.adverse_event_drugs`) linked to it, from whichever of those
    marts exist (a missing one counts 0). Read by name, not `ref`: the link marts are built
    from the drug intermediates, so the `drugs` mart cannot depend on them; each link mart
    refreshes the counts on `drugs` after it builds (`update_drug_link_counts`). -#}
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

{#- After a link mart builds: set the link counts of every drug in `marts.drugs` (when
    it exists) from the link marts as they now are. -#}
{% macro update_drug_link_counts() -%}
    {%- set drugs = adapter.get_relation(
        database=target.dbname, schema='marts', identifier='drugs'
    ) if execute else none -%}
    {%- if drugs -%}
    update {{ drugs }} as drugs
    set
        linked_trial_count = coalesce(counts.linked_trial_count, 0),
        linked_article_count = coalesce(counts.linked_article_count, 0),
        adverse_event_case_count = coalesce(counts.adverse_event_case_count, 0)
    from {{ drugs }} as every_drug
    left join ({{ drug_link_counts() }}) as counts on counts.drug_id = every_drug.drug_id
    where drugs.drug_id = every_drug.drug_id
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
