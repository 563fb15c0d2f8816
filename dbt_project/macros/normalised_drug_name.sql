{#- A drug name as FAERS matching needs it: the active ingredient without its salt,
    hydrate, strength or dosage form. `text_expression` is FAERS `prod_ai` (the active
    ingredient FDA codes) or, without one, the reported `drugname`.

    Upper case; punctuation and `\` (FAERS joins combinations with it) become spaces;
    strengths and units (`10 MG`), dosage-form and release words (TABLETS, INJECTION, ER)
    go anywhere; salt and hydrate words (HYDROCHLORIDE, SODIUM, MONOHYDRATE, ...) go after
    the first word only (SODIUM CHLORIDE stays itself, DICLOFENAC SODIUM is DICLOFENAC).
    A name that would be left empty keeps its upper-cased words. Until the drugs mart
    exists, FAERS links drugs to ingredients by this name alone (ERLOTINIB HYDROCHLORIDE
    and Erlotinib are one ingredient; a brand name such as RISPERDAL stays a brand).
-#}
{% macro normalised_drug_name(text_expression) -%}
    {{ return(adapter.dispatch('normalised_drug_name', 'medmirror')(text_expression)) }}
{%- endmacro %}

{% macro postgres__normalised_drug_name(text_expression) -%}
    {%- set salts -%}
        HYDROCHLORIDE|DIHYDROCHLORIDE|HCL|HYDROBROMIDE|HBR|MESYLATE|MESILATE|DIMESYLATE|MALEATE|SULFATE|SULPHATE|ACETATE|TARTRATE|BITARTRATE|CITRATE|FUMARATE|HEMIFUMARATE|SUCCINATE|BESYLATE|BESILATE|PHOSPHATE|HYCLATE|TOSYLATE|NITRATE|LACTATE|GLUCONATE|DISODIUM|SODIUM|POTASSIUM|CALCIUM|MONOHYDRATE|DIHYDRATE|TRIHYDRATE|SESQUIHYDRATE|HEMIHYDRATE|HYDRATE|ANHYDROUS
    {%- endset -%}
    {%- set forms -%}
        TABLETS?|TABS?|CAPSULES?|INJECTION|INJECTABLE|SOLUTION|SUSPENSION|ORAL|CREAM|OINTMENT|GEL|PATCH|SYRUP|DROPS|SPRAY|POWDER|EXTENDED|DELAYED|RELEASE|FILM|COATED|ER|XR|XL|SR|CR|DR|ODT|MG|MCG|UG|ML|G|IU|UNITS?|[0-9]+
    {%- endset -%}
    {%- set words = "trim(regexp_replace(upper(" ~ text_expression ~ "), '[^A-Z0-9]+', ' ', 'g'))" -%}
    {%- set unsized = "trim(regexp_replace(regexp_replace(" ~ words ~ ", '\\m(" ~ forms ~ ")\\M', ' ', 'g'), ' +', ' ', 'g'))" -%}
    {%- set one_salt = "regexp_replace(" ~ unsized ~ ", '(\\S) +(" ~ salts ~ ")\\M', '\\1', 'g')" -%}
    {%- set no_salt = "trim(regexp_replace(regexp_replace(" ~ one_salt ~ ", '(\\S) +(" ~ salts ~ ")\\M', '\\1', 'g'), ' +', ' ', 'g'))" -%}
    coalesce(nullif({{ no_salt }}, ''), nullif({{ words }}, ''))
{%- endmacro %}
