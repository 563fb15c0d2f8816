{#- Fails once for each of `columns` that holds a null, returning the column's name and
    how many rows are null in it: the not-null checks of one model in one scan and one
    test (a test per column costs dbt a node each; a model has up to a dozen). -#}
{% test not_null_columns(model, columns) %}
    select
        nulls.column_name,
        nulls.null_rows
    from (
        select
            {%- for column in columns %}
                count(*) filter (where {{ column }} is null) as {{ column }}
                {{- "," if not loop.last }}
            {%- endfor %}
        from {{ model }}
    ) as counted
    cross join lateral (
        values
            {%- for column in columns %}
                ('{{ column }}', counted.{{ column }}){{ "," if not loop.last }}
            {%- endfor %}
    ) as nulls (column_name, null_rows)
    where nulls.null_rows > 0
{% endtest %}
