{#- One row per record of `records` (a CTE with `record_id`) saying which drug it links
    to and how, from its lookups in `attempts` (a CTE: `record_id`, `attempt_order`,
    `lookup_kind` unii|rxnorm|name|brand, `lookup_value`) against `dictionary`
    (`int_drug_name_dictionary`). An ambiguous value (one value, several drugs) never
    links; unambiguous matches must all name the same drug, else the record is
    `conflicting` and links to none. `outcome`: linked, ambiguous, conflicting,
    unmatched. `link_method`: unii, rxnorm_id, exact_name, brand_name (the first
    attempt that matched, in `attempt_order`). -#}
{% macro resolve_drug_links(records, attempts, dictionary) -%}
    select
        {{ records }}.record_id,
        case
            when matched.unambiguous_drugs = 1 then 'linked'
            when matched.unambiguous_drugs > 1 then 'conflicting'
            when matched.record_id is not null then 'ambiguous'
            else 'unmatched'
        end as outcome,
        case when matched.unambiguous_drugs = 1 then matched.drug_id end as drug_id,
        case when matched.unambiguous_drugs = 1 then matched.link_method end as link_method,
        case when matched.unambiguous_drugs = 1 then matched.matched_value end
            as matched_value,
        matched.candidate_drug_ids,
        matched.ambiguous_values
    from {{ records }}
    left join (
        select
            {{ attempts }}.record_id,
            count(distinct {{ dictionary }}.drug_id)
                filter (where not {{ dictionary }}.is_ambiguous) as unambiguous_drugs,
            (array_agg({{ dictionary }}.drug_id order by {{ attempts }}.attempt_order)
                filter (where not {{ dictionary }}.is_ambiguous))[1] as drug_id,
            (array_agg(
                case {{ dictionary }}.lookup_kind
                    when 'unii' then 'unii'
                    when 'rxnorm' then 'rxnorm_id'
                    when 'name' then 'exact_name'
                    when 'brand' then 'brand_name'
                end
                order by {{ attempts }}.attempt_order
            ) filter (where not {{ dictionary }}.is_ambiguous))[1] as link_method,
            (array_agg({{ attempts }}.lookup_value order by {{ attempts }}.attempt_order)
                filter (where not {{ dictionary }}.is_ambiguous))[1] as matched_value,
            array_agg(distinct {{ dictionary }}.drug_id order by {{ dictionary }}.drug_id)
                as candidate_drug_ids,
            array_agg(distinct {{ attempts }}.lookup_value order by {{ attempts }}.lookup_value)
                filter (where {{ dictionary }}.is_ambiguous) as ambiguous_values
        from {{ attempts }}
        inner join {{ dictionary }}
            on {{ dictionary }}.lookup_kind = {{ attempts }}.lookup_kind
            and {{ dictionary }}.lookup_value = {{ attempts }}.lookup_value
        group by {{ attempts }}.record_id
    ) as matched on matched.record_id = {{ records }}.record_id
{%- endmacro %}
