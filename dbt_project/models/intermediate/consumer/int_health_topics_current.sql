-- The health topics of the newest completely landed MedlinePlus file. A file is a
-- complete snapshot, so a topic absent from it is gone; a rejected file leaves the
-- previous one.

with

topics as (
    select * from {{ ref('stg_medlineplus__health_topics') }}
),

-- A second import of the same view: PostgreSQL materialises a CTE used twice.
landings as (
    select
        file_date as released_at,
        load_id
    from {{ ref('stg_medlineplus__health_topics') }}
),

loads as (
    select * from {{ ref('stg_medlineplus__loads') }}
),

latest_landing as (
    {{ latest_complete_release('landings', 'loads') }}
),

-- distinct on: a load job run again after a killed load lands its rows twice in one load.
current_topics as (
    select distinct on (topics.topic_id, topics.language) topics.*
    from topics
    inner join latest_landing
        on topics.file_date = latest_landing.released_at
        and topics.load_id = latest_landing.load_id
    order by topics.topic_id, topics.language
)

select * from current_topics
