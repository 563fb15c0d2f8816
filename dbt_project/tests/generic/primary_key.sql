{#- Fails for every combination of `columns` that occurs more than once or has a null in
    it, returning the combination, how many rows hold it and which of the two it breaks:
    a key's uniqueness and not-null checks in one scan and one test (two tests read a
    view over landed documents twice). -#}
{% test primary_key(model, columns) %}
    select
        {{ columns | join(', ') }},
        count(*) as key_rows,
        case
            when {% for column in columns -%}
                {{ column }} is null{{ " or " if not loop.last }}
            {%- endfor %} then 'null in the key'
            else 'key repeated'
        end as broken
    from {{ model }}
    group by {{ columns | join(', ') }}
    having
        count(*) > 1
        {%- for column in columns %}
        or {{ column }} is null
        {%- endfor %}
{% endtest %}
