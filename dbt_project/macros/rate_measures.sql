{#- The PLACES measures `county_health` shows, as (measure id, column name prefix). -#}
{% macro rate_measures() -%}
    {{ return([
        ('DIABETES', 'diabetes'),
        ('OBESITY', 'obesity'),
        ('BPHIGH', 'high_blood_pressure'),
        ('CSMOKING', 'current_smoking'),
        ('CHD', 'coronary_heart_disease'),
        ('DEPRESSION', 'depression'),
    ]) }}
{%- endmacro %}
