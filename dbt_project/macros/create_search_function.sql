{#- A ranked full-text search function over a searchable mart, created as the mart's
    post-hook: `select * from marts.search_<mart>('growth hormone', 20)`.

    Ranking every match does not scale (a common word matches a large share of a
    million rows), so the function ranks a bounded candidate set: the matches in the
    A-weighted fields (titles), then any match, each capped at `candidates` rows taken
    in `prior` order (e.g. most recently updated first), and returns the best
    `max_hits` of those by `ts_rank`. `columns` is a list of (column, SQL type) pairs. -#}
{% macro create_search_function(columns, prior, candidates=1000) -%}
    {{ return(adapter.dispatch('create_search_function', 'medmirror')(
        columns, prior, candidates
    )) }}
{%- endmacro %}

{% macro postgres__create_search_function(columns, prior, candidates) -%}
    {%- set function = this.schema ~ '.search_' ~ this.identifier -%}
    {%- set key = columns[0][0] -%}
    create or replace function {{ function }}(query text, max_hits integer default 20)
    returns table (
        {%- for name, type in columns %}
        {{ name }} {{ type }},
        {%- endfor %}
        rank real
    )
    language sql stable
    as $search$
        with terms as (
            select
                websearch_to_tsquery('english', query) as any_field,
                to_tsquery(
                    'english',
                    coalesce(nullif(regexp_replace(
                        websearch_to_tsquery('english', query)::text,
                        '''([^'']+)''', '''\1'':A', 'g'
                    ), ''), '''''')
                ) as title
        ),
        {%- for tier in ['title', 'any_field'] %}
        {{ tier }}_matches as (
            select found.{{ key }}
            from {{ this }} as found, terms
            where found.search_vector @@ terms.{{ tier }}
            order by found.{{ prior }} desc nulls last
            limit {{ candidates }}
        ),
        {%- endfor %}
        candidates as (
            select {{ key }} from title_matches
            union
            select {{ key }} from any_field_matches
        )
        select
            {%- for name, type in columns %}
            hit.{{ name }}::{{ type }},
            {%- endfor %}
            ts_rank(hit.search_vector, terms.any_field) as rank
        from candidates
        inner join {{ this }} as hit on candidates.{{ key }} = hit.{{ key }}
        cross join terms
        order by rank desc, hit.{{ prior }} desc nulls last
        limit max_hits
    $search$;
    comment on function {{ function }}(text, integer) is
        'Ranked full-text search of {{ this }}: the best max_hits rows for a web-style query.'
{%- endmacro %}
