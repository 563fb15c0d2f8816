{#- Fails for every non-null value of `column_name` that does not match the POSIX regular
    expression `pattern` (the whole value must match). -#}
{% test matches_pattern(model, column_name, pattern) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
        and not {{ column_name }} ~ '{{ "^(" ~ pattern ~ ")$" }}'
{% endtest %}
