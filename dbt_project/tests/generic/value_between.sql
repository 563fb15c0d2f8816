{#- Fails for every row whose `column_name` is outside [min_value, max_value] (either bound
    may be left out), returning the row's `key_columns` and the value, so that a failure
    names the rows. -#}
{% test value_between(model, column_name, key_columns, min_value=none, max_value=none) %}
    select {{ key_columns | join(', ') }}, {{ column_name }} as failing_value
    from {{ model }}
    where {{ column_name }} is not null
        and (
            false
            {%- if min_value is not none %} or {{ column_name }} < {{ min_value }}{% endif %}
            {%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
        )
{% endtest %}

{#- `value_between` for several columns with the same bounds, in one scan and one test
    (a test per column costs dbt a node each: county_health has 82 such columns): every
    failing value is a row naming the row's `key_columns`, the column and the value. -#}
{% test values_between(model, columns, key_columns, min_value=none, max_value=none) %}
    select
        {% for key in key_columns %}tested.{{ key }}, {% endfor %}
        checked.column_name,
        checked.failing_value
    from {{ model }} as tested
    cross join lateral (
        values
            {%- for column in columns %}
                ('{{ column }}', tested.{{ column }}::numeric){{ "," if not loop.last }}
            {%- endfor %}
    ) as checked (column_name, failing_value)
    where checked.failing_value is not null
        and (
            false
            {%- if min_value is not none %} or checked.failing_value < {{ min_value }}{% endif %}
            {%- if max_value is not none %} or checked.failing_value > {{ max_value }}{% endif %}
        )
{% endtest %}
