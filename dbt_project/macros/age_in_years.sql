{#- A ClinicalTrials.gov age limit ("18 Years", "6 Months", "12 Weeks", "30 Days",
    "24 Hours", "45 Minutes") in years, rounded to 2 decimals (a month is 1/12 year, a
    week 7 days, a day 1/365.25 year). "N/A", absent or anything else: null. -#}
{% macro age_in_years(text_expression) -%}
    {{ return(adapter.dispatch('age_in_years', 'medmirror')(text_expression)) }}
{%- endmacro %}

{% macro postgres__age_in_years(text_expression) -%}
    case
        when {{ text_expression }} ~* '^\s*\d{1,4}(\.\d+)?\s+(year|month|week|day|hour|minute)s?\s*$'
            then round(
                cast(substring({{ text_expression }} from '\d+(?:\.\d+)?') as numeric)
                / case lower(substring({{ text_expression }} from '(?i)(year|month|week|day|hour|minute)'))
                    when 'year' then 1
                    when 'month' then 12
                    when 'week' then 365.25 / 7
                    when 'day' then 365.25
                    when 'hour' then 365.25 * 24
                    else 365.25 * 24 * 60
                end,
                2
            )
    end
{%- endmacro %}
