{#- A ranked full-text search function over a searchable mart, created as the mart's
    post-hook: `select * from marts.search_<mart>('growth hormone', 20)`.

    Ranking every match does not scale: a common word matches half of a million rows, and
    `ts_rank` over all of them takes seconds. The function ranks a bounded candidate set:

    - a query matching at most `exact_up_to` rows is ranked exactly, every match;
    - otherwise the candidates are the most recent matches: the window of the newest
      year, then 2, 5 years, then everything, until one holds `candidates` matches,
      looked up in the mart's GIN index on (search_vector, `year`) so that no row outside
      the window is read. Title matches (weight A) are gathered the same way so that they
      are never crowded out. Those are ranked with `ts_rank`.

    Needs the `btree_gin` extension, the index
    `{'columns': ['search_vector', year], 'type': 'gin'}` (no other index on `year`: the
    planner would combine it instead of letting GIN filter by year) and a btree index on
    `prior` (its newest value starts the windows).
    `columns` is a list of (column, SQL type) pairs returned with each hit, the first
    being the mart's key; `prior` orders equal ranks (newest first). -#}
{% macro create_search_function(columns, year, prior, candidates=300, exact_up_to=2000) -%}
    {{ return(adapter.dispatch('create_search_function', 'medmirror')(
        columns, year, prior, candidates, exact_up_to
    )) }}
{%- endmacro %}

{% macro postgres__create_search_function(columns, year, prior, candidates, exact_up_to) -%}
    {%- set function = this.schema ~ '.search_' ~ this.identifier -%}
    {%- set key = columns[0][0] -%}
    {%- set hit_columns -%}
        {%- for name, type in columns %}
                hit.{{ name }}::{{ type }},
        {%- endfor %}
                ts_rank(hit.search_vector, any_field) as rank
    {%- endset -%}
    create or replace function {{ function }}(query text, max_hits integer default 20)
    returns table (
        {%- for name, type in columns %}
        {{ name }} {{ type }},
        {%- endfor %}
        rank real
    )
    -- volatile only because PostgreSQL allows EXPLAIN nowhere else; it reads, never writes
    language plpgsql volatile
    as $search$
    declare
        any_field tsquery := websearch_to_tsquery('english', query);
        -- the same words, matched in the A-weighted fields (titles) only
        title tsquery := to_tsquery('english', coalesce(nullif(regexp_replace(
            any_field::text, '''([^'']+)''', '''\1'':A', 'g'), ''), ''''''));
        newest smallint;
        since smallint;  -- smallint, like the column: GIN then filters by year itself
        matches integer;
        plan json;
    begin
        if numnode(any_field) = 0 then
            return;
        end if;
        -- How many rows match, as the planner estimates it from the lexeme statistics
        -- (counting them would cost as much as ranking them).
        execute format(
            'explain (format json) select 1 from {{ this }} where search_vector @@ %L::tsquery',
            any_field
        ) into plan;
        if (plan -> 0 -> 'Plan' ->> 'Plan Rows')::numeric <= {{ exact_up_to }} then
            return query
                select {{ hit_columns }}
                from {{ this }} as hit
                where hit.search_vector @@ any_field
                order by rank desc, hit.{{ prior }} desc nulls last
                limit max_hits;
            return;
        end if;
        select extract(year from max(found.{{ prior }})) into newest from {{ this }} as found;
        foreach since in array array[newest, newest - 1, newest - 4, -32768]::smallint[] loop
            select count(*) into matches from (
                select 1 from {{ this }} as found
                where found.search_vector @@ any_field and found.{{ year }} >= since
                limit {{ candidates }}
            ) as counted;
            exit when matches >= {{ candidates }};
        end loop;
        return query
            with candidates as (
                (
                    select found.{{ key }} from {{ this }} as found
                    where found.search_vector @@ title and found.{{ year }} >= since
                    limit {{ candidates }}
                )
                union
                (
                    select found.{{ key }} from {{ this }} as found
                    where found.search_vector @@ any_field and found.{{ year }} >= since
                    limit {{ candidates }}
                )
            )
            select {{ hit_columns }}
            from candidates
            inner join {{ this }} as hit on candidates.{{ key }} = hit.{{ key }}
            order by rank desc, hit.{{ prior }} desc nulls last
            limit max_hits;
    end;
    $search$;
    comment on function {{ function }}(text, integer) is
        'Ranked full-text search of {{ this }}: the best max_hits rows for a web-style query.'
{%- endmacro %}
