{#- The set of active ingredients a drug name states, as one comparable text: the name
    split into its parts (FAERS `\`, `/`, `+`, `,`, `;`, "and", "with", "w/"), each part
    normalised by `normalised_drug_name` (so every source is normalised the same way),
    parts that are only numbers (FAERS `/00587301/` codes) dropped, the distinct parts
    sorted and joined by ` + `. "Acetaminophen and Codeine" and FAERS
    `CODEINE PHOSPHATE\ACETAMINOPHEN` are both `ACETAMINOPHEN + CODEINE`, which is never
    equal to `ACETAMINOPHEN`: a combination can only match the combination. -#}
{% macro drug_name_set(text_expression) -%}
    (
        select string_agg(distinct part.name, ' + ' order by part.name)
        from (
            select {{ normalised_drug_name('piece.text') }} as name
            from regexp_split_to_table(
                {{ text_expression }},
                '\s*(\\|/|\+|,|;|\mand\M|\mwith\M|\mw/)\s*',
                'i'
            ) as piece (text)
        ) as part
        where part.name !~ '^[0-9 ]*$'
    )
{%- endmacro %}
