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
                ts_rank(hit.search_vector, _any_words) as rank
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
        -- Variables start with `_`: one named like a column of the mart (`title`) would
        -- make that column's references ambiguous in the queries below.
        _any_words tsquery := websearch_to_tsquery('english', query);
        -- the same words, matched in the A-weighted fields (titles) only
        _title_words tsquery := to_tsquery('english', coalesce(nullif(regexp_replace(
            _any_words::text, '''([^'']+)''', '''\1'':A', 'g'), ''), ''''''));
        _newest_year smallint;
        -- smallint, like the column: GIN then filters by year itself. The last window
        -- (null) is every match, rows without a year included.
        _since_year smallint;
        _plan json;
        _title_keys {{ columns[0][1] }}[];
        _any_keys {{ columns[0][1] }}[];
        _seqscan text := current_setting('enable_seqscan');
    begin
        if numnode(_any_words) = 0 then
            return;
        end if;
        -- How many rows match, as the planner estimates it from the lexeme statistics
        -- (counting them would cost as much as ranking them).
        execute format(
            'explain (format json) select 1 from {{ this.include(database=False) }} where search_vector @@ %L::tsquery',
            _any_words
        ) into _plan;
        if (_plan -> 0 -> 'Plan' ->> 'Plan Rows')::numeric <= {{ exact_up_to }} then
            return query
                select {{ hit_columns }}
                from {{ this.include(database=False) }} as hit
                where hit.search_vector @@ _any_words
                order by rank desc, hit.{{ prior }} desc nulls last
                limit max_hits;
            return;
        end if;
        select extract(year from max(found.{{ prior }})) into _newest_year
        from {{ this.include(database=False) }} as found;
        -- The matches of the newest window that holds enough of them, gathered once (the
        -- last window, null, is every match, rows without a year included).
        foreach _since_year in array
            array[_newest_year, _newest_year - 1, _newest_year - 4, null]::smallint[]
        loop
            _any_keys := array(
                select found.{{ key }} from {{ this.include(database=False) }} as found
                where found.search_vector @@ _any_words
                    and (found.{{ year }} >= _since_year or _since_year is null)
                limit {{ candidates }}
            );
            exit when cardinality(_any_keys) >= {{ candidates }};
        end loop;
        -- Title matches through the GIN index: the planner estimates `word:A` like `word`
        -- and would scan the table for a limit it reaches late (titles are short), reading
        -- every row's vector on the way (measured: 420 ms at 1M articles, 30 ms this way).
        perform set_config('enable_seqscan', 'off', true);
        _title_keys := array(
            select found.{{ key }} from {{ this.include(database=False) }} as found
            where found.search_vector @@ _title_words
                and (found.{{ year }} >= _since_year or _since_year is null)
            limit {{ candidates }}
        );
        perform set_config('enable_seqscan', _seqscan, true);
        return query
            with candidates as (
                select unnest(_title_keys) as {{ key }}
                union
                select unnest(_any_keys)
            )
            select {{ hit_columns }}
            from candidates
            inner join {{ this.include(database=False) }} as hit on candidates.{{ key }} = hit.{{ key }}
            order by rank desc, hit.{{ prior }} desc nulls last
            limit max_hits;
    end;
    $search$;
    comment on function {{ function }}(text, integer) is
        'Ranked full-text search of {{ this.include(database=False) }}: the best max_hits rows for a web-style query.'
{%- endmacro %}
