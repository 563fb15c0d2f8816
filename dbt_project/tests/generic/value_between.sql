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
