"""The SQL layers point one way, checked on dbt's own parse and compilation of the project:

- a model has at most 7 distinct parents (split what has more into named steps);
- staging reads only `source()`; intermediate reads staging and intermediate, never a
  mart; `source()` is read in staging only;
- a model reads only what it declares (`ref`, `source`): its compiled SQL (sqlglot) names
  no other relation, and neither it nor a macro it calls looks a relation up by name
  (`adapter.get_relation`, `load_relation`, `api.Relation.create`);
- a model's hooks and macros write to its own relation only (`{{ this }}`), and name no
  relation by schema.

The checks are plain functions of what dbt knows about each model; the last test feeds
them models that break each rule (the link counts as they were: three link marts updating
`marts.drugs` in a post-hook, `drugs` reading them by name) to show each is caught.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from flows.dbt_runner import run_dbt
from medmirror.settings import PROJECT_DIR

MAX_PARENTS = 7
PROJECT = "medmirror"
# What each layer may read (`source` is a source(), the rest are model folders).
READS = {
    "staging": {"source"},
    "intermediate": {"staging", "intermediate"},
    "marts": {"staging", "intermediate", "marts"},
    "ops": {"staging", "intermediate", "marts", "ops"},
}
LOOKUPS_BY_NAME = re.compile(
    r"adapter\s*\.\s*get_relation|load_relation\s*\(|Relation\s*\.\s*create"
)
WRITES = re.compile(
    r"""\b(?:
        update
        | insert\s+into
        | delete\s+from
        | truncate(?:\s+table)?
        | (?:alter|drop)\s+(?:table|view|materialized\s+view)(?:\s+if\s+exists)?
        | create\s+(?:or\s+replace\s+)?(?:unlogged\s+|temp(?:orary)?\s+)?
          (?:table|view|materialized\s+view)(?:\s+if\s+not\s+exists)?
        | create\s+(?:unique\s+)?index\s+(?:concurrently\s+)?(?:if\s+not\s+exists\s+)?
          (?:\w+\s+)?on
    )\s+(?:only\s+)?(?P<target>\{\{.*?\}\}|[^\s(;]+)""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
THIS = re.compile(r"^\{\{-?\s*this\s*-?\}\}$")
SCHEMA_NAME = re.compile(r"\b(?:staging|intermediate|marts|ops|raw_[a-z0-9_]+)\.[a-z_]\w*", re.I)


@dataclass
class Model:
    """What the checks need of one model."""

    name: str
    layer: str  # its folder under models/: staging, intermediate, marts, ops
    relation: tuple[str, str]  # (schema, name)
    parents: dict[str, str] = field(default_factory=dict)  # parent -> its layer or "source"
    parent_relations: set[tuple[str, str]] = field(default_factory=set)
    compiled_sql: str = ""
    raw_sql: str = ""
    hooks: list[str] = field(default_factory=list)
    macros: dict[str, str] = field(default_factory=dict)  # project macros it calls -> SQL


# -- the rules ----------------------------------------------------------------------------


def too_many_parents(model: Model) -> list[str]:
    if len(model.parents) > MAX_PARENTS:
        return [f"{model.name}: {len(model.parents)} parents ({', '.join(sorted(model.parents))})"]
    return []


def layer_violations(model: Model) -> list[str]:
    allowed = READS.get(model.layer, set())
    return [
        f"{model.name} ({model.layer}) reads {parent} ({layer})"
        for parent, layer in sorted(model.parents.items())
        if layer not in allowed
    ]


def reads_by_name(model: Model) -> list[str]:
    """Relations the compiled SQL names that the model does not declare, and lookups by
    name in its SQL or macros."""
    problems = []
    tree = sqlglot.parse_one(model.compiled_sql or "select 1", read="postgres")
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    declared = model.parent_relations | {model.relation}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # a table function: unnest(...), jsonb_array_elements(...)
        name = table.name.lower()
        if table.db:
            if (table.db.lower(), name) not in declared:
                problems.append(f"{model.name} reads {table.db}.{table.name} by name")
        elif name not in ctes:
            problems.append(f"{model.name} reads {table.name} (no schema, not a CTE)")
    for where, text in [("its SQL", model.raw_sql), *model.macros.items()]:
        if LOOKUPS_BY_NAME.search(_code(text)):
            problems.append(f"{model.name}: {where} looks a relation up by name")
    return problems


def foreign_writes(model: Model) -> list[str]:
    """Writes of its hooks or macros to a relation other than its own, and relations they
    name by schema."""
    problems = []
    for where, text in [
        *((f"hook {hook!r:.60}", hook) for hook in model.hooks),
        *model.macros.items(),
    ]:
        code = _code(text)
        for write in WRITES.finditer(code):
            if not THIS.match(write["target"].strip()):
                problems.append(f"{model.name}: {where} writes {write['target']}")
        for named in SCHEMA_NAME.findall(code):
            problems.append(f"{model.name}: {where} names {named}")
    return problems


def _code(text: str) -> str:
    """Jinja and SQL text without its comments."""
    text = re.sub(r"\{#.*?#\}", " ", text, flags=re.DOTALL)
    return re.sub(r"--[^\n]*", " ", text)


def violations(models: list[Model]) -> list[str]:
    return [
        problem
        for model in models
        for check in (too_many_parents, layer_violations, reads_by_name, foreign_writes)
        for problem in check(model)
    ]


# -- the project, as dbt parses and compiles it ----------------------------------------------


def _relation(relation_name: str | None) -> tuple[str, str]:
    table = sqlglot.exp.to_table(relation_name, dialect="postgres")
    return (table.db.lower(), table.name.lower())


def _macros(manifest, unique_ids: list[str]) -> dict[str, str]:
    """The project's macros among `unique_ids` and those they call (dispatch included)."""
    found: dict[str, str] = {}
    pending = list(unique_ids)
    while pending:
        unique_id = pending.pop()
        macro = manifest.macros.get(unique_id)
        if macro is None or macro.package_name != PROJECT or unique_id in found:
            continue
        found[unique_id] = macro.macro_sql
        pending += macro.depends_on.macros
        for adapter in ("postgres", "default"):
            pending.append(f"macro.{PROJECT}.{adapter}__{macro.name}")
    return found


@pytest.fixture(scope="module")
def project_models(templates) -> list[Model]:
    """Every model of the project, as dbt parses and compiles it (on a built warehouse:
    incremental models compile their incremental branch)."""
    connection = templates.fresh("tmpl_empty")
    manifest = run_dbt(["parse"], connection).result
    compiled = run_dbt(
        ["compile", "--select", "resource_type:model", "--indirect-selection", "empty", "--quiet"],
        connection,
    ).result.results
    models = []
    for node in (result.node for result in compiled):
        if node.resource_type != "model":
            continue
        parents = {}
        relations = set()
        for parent_id in node.depends_on.nodes:
            parent = manifest.nodes.get(parent_id) or manifest.sources.get(parent_id)
            layer = "source" if parent.resource_type == "source" else parent.fqn[1]
            parents[parent.name if layer != "source" else parent.unique_id] = layer
            relations.add(_relation(parent.relation_name))
        models.append(
            Model(
                name=node.name,
                layer=node.fqn[1],
                relation=_relation(node.relation_name),
                parents=parents,
                parent_relations=relations,
                compiled_sql=node.compiled_code,
                raw_sql=node.raw_code,
                hooks=[hook.sql for hook in (*node.config.pre_hook, *node.config.post_hook)],
                macros=_macros(manifest, list(node.depends_on.macros)),
            )
        )
    return models


def test_every_model_keeps_the_layer_rules(project_models):
    assert len(project_models) > 100
    assert {model.layer for model in project_models} == set(READS)
    assert violations(project_models) == []


def test_the_drugs_mart_declares_the_link_marts_it_counts(project_models):
    (drugs,) = [model for model in project_models if model.name == "drugs"]
    assert {"drug_trials", "drug_articles", "adverse_event_drugs"} <= set(drugs.parents)
    (links,) = [model for model in project_models if model.name == "drug_trials"]
    assert "drugs" not in links.parents
    assert links.hooks == []


def test_the_checks_catch_each_broken_rule():
    counts_by_name = (
        "{% set found = adapter.get_relation(database=target.dbname, schema='marts', "
        "identifier='drug_trials') %} select * from {{ found }}"
    )
    drugs = Model(
        name="drugs",
        layer="marts",
        relation=("marts", "drugs"),
        parents={f"int_drug_{n}": "intermediate" for n in range(8)},
        parent_relations={("intermediate", f"int_drug_{n}") for n in range(8)},
        compiled_sql=(
            'with products as (select * from "db"."intermediate"."int_drug_0"), '
            'link_counts as (select drug_id from "db"."marts"."drug_trials") '
            "select * from products left join link_counts using (drug_id) "
            "cross join lateral unnest(products.uniis) as unii (value) "
            "left join search_path_table using (drug_id)"
        ),
        raw_sql=counts_by_name,
        macros={"macro.medmirror.drug_link_counts": counts_by_name},
    )
    drug_trials = Model(
        name="drug_trials",
        layer="marts",
        relation=("marts", "drug_trials"),
        hooks=[
            "{{ update_drug_link_counts('drug_trials', 'nct_id', 'linked_trial_count') }}",
            "analyze {{ this }}",
        ],
        macros={
            "macro.medmirror.update_drug_link_counts": (
                "do $counts$ begin if to_regclass('marts.drugs') is not null then "
                "update marts.drugs set {{ column }} = 0; end if; end $counts$"
            ),
            "macro.medmirror.delete_changed_keys": "delete from {{ this }} where true",
        },
    )
    matches = Model(
        name="int_trial_intervention_drug_matches",
        layer="intermediate",
        relation=("intermediate", "int_trial_intervention_drug_matches"),
        parents={"trial_interventions": "marts", "source.medmirror.x.y": "source"},
    )

    assert too_many_parents(drugs) == [
        "drugs: 8 parents (" + ", ".join(f"int_drug_{n}" for n in range(8)) + ")"
    ]
    assert sorted(reads_by_name(drugs)) == [
        "drugs reads marts.drug_trials by name",
        "drugs reads search_path_table (no schema, not a CTE)",
        "drugs: its SQL looks a relation up by name",
        "drugs: macro.medmirror.drug_link_counts looks a relation up by name",
    ]
    assert foreign_writes(drug_trials) == [
        "drug_trials: macro.medmirror.update_drug_link_counts writes marts.drugs",
        "drug_trials: macro.medmirror.update_drug_link_counts names marts.drugs",
        "drug_trials: macro.medmirror.update_drug_link_counts names marts.drugs",
    ]
    assert layer_violations(matches) == [
        "int_trial_intervention_drug_matches (intermediate) reads source.medmirror.x.y (source)",
        "int_trial_intervention_drug_matches (intermediate) reads trial_interventions (marts)",
    ]
    assert len(violations([drugs, drug_trials, matches])) == 10


# What the project may read of dbt's target while parsing: flows.dbt_runner parses it once
# per database and runs the parsed project under any role (the loader's, the transformer's,
# the owner's) and server, which holds only if nothing parsed depends on them.
TARGET_READ = re.compile(r"\btarget\s*(?:\.\s*(\w+)|\[\s*['\"](\w+))")
TARGET_READABLE = {"database", "dbname", "schema", "type", "name"}
JINJA = re.compile(r"\{[{%](.*?)[}%]\}", re.S)


def project_files() -> list[Path]:
    """The project's own SQL and YAML (not dbt's output in `target/` and `logs/`)."""
    project = PROJECT_DIR / "dbt_project"
    return [
        path
        for pattern in ("*.sql", "*.yml")
        for path in project.rglob(pattern)
        if path.relative_to(project).parts[0] not in {"target", "logs", "dbt_packages"}
    ]


def target_reads(text: str) -> set[str]:
    """What `text` reads of the target that differs between roles or servers (and
    `env_var`: the profile's settings come from the environment)."""
    jinja = " ".join(JINJA.findall(text))
    found = {a or b for a, b in TARGET_READ.findall(jinja)} - TARGET_READABLE
    return found | ({"env_var"} if "env_var(" in jinja else set())


def test_the_project_reads_of_its_target_only_what_one_parse_serves_every_role():
    assert target_reads("{{ target.user }} {% if target['port'] %} target.host") == {
        "user",
        "port",
    }
    found = {
        f"{path.name}: {', '.join(sorted(reads))}"
        for path in project_files()
        if (reads := target_reads(path.read_text()))
    }
    assert found == set()
