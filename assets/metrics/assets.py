"""dbt models as Dagster assets: daily models by business date, monthly marts by month.

A run passes its partition window to dbt in the environment (assets.metrics.vars); a backfill is a
single `dbt build` over the window (BackfillPolicy.single_run). dbt tests become asset checks; a
failing test of severity error fails the step, so nothing downstream (reports) is built on it.
"""
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from assets.common.partitions import business_days, business_months
from assets.common.resources import WRITER_POOL, WarehouseResource
from assets.metrics.key_figures import KEY_FIGURES, key_figure_metadata
from assets.metrics.project import dbt_project, manifest_path, translator
from assets.metrics.vars import dbt_window_env

MONTHLY = "tag:monthly"


def _window(context: dg.AssetExecutionContext) -> tuple[str | None, str | None]:
    if not context.has_partition_key and not context.has_partition_key_range:
        return None, None
    r = context.partition_key_range
    return r.start, r.end


def _window_digests(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dict[str, str | None]:
    """Per business date of the window: a digest of every input file up to that date (positions are
    cumulative) and of the compiled project, so an unchanged window can skip the dbt build."""
    import hashlib

    code = hashlib.sha256(manifest_path().read_bytes()).hexdigest()
    out: dict[str, str | None] = {}
    with warehouse.connect(read_only=True) as con:
        exists = con.execute("select count(*) from information_schema.tables "
                             "where table_schema = 'raw' and table_name = 'file_manifest'").fetchone()[0]
        for day in context.partition_keys:
            rows = con.execute("select feed, file, sha256 from raw.file_manifest where business_date <= ? "
                               "order by all", [day]).fetchall() if exists else []
            out[day] = hashlib.sha256(repr((code, rows)).encode()).hexdigest() if rows else None
    return out


def _unchanged(digests: dict[str, str | None], warehouse: WarehouseResource) -> bool:
    from assets.quality.gate_log import passed_before

    with warehouse.connect(read_only=True) as con:
        return all(d is not None and passed_before(con, day, "dbt_build", d) is not None
                   for day, d in digests.items())


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource) -> Iterator:
    start, end = _window(context)
    daily = bool(start and len(start) == 10)
    digests = _window_digests(context, warehouse) if daily else {}
    if daily and _unchanged(digests, warehouse):
        # the same inputs and the same models were built and passed their gates before: nothing to redo
        context.log.info(f"dbt build skipped: inputs of {start} … {end} unchanged since the last successful build")
        return
    # unit tests run in CI (`make test`); production builds run models and data tests only
    args = ["build", "--exclude-resource-type", "unit_test"]
    # dbt starts as a subprocess with this process's environment: profiles.yml reads the warehouse, the
    # window macros the window (set only while it starts, so nothing else in the process sees them)
    with _environment({"MARGINFLOW_WAREHOUSE": warehouse.path, **dbt_window_env(start, end)}):
        invocation = dbt.cli(args, context=context, raise_on_error=False)
    # Events go to Dagster as dbt reports them (storing ≈ 650 events costs ≈ 10 s, now beside dbt's
    # own work). What needs the warehouse waits until dbt has exited and freed it: the outputs of marts
    # with key figures (and their check results, which must follow their materialization) and failed
    # checks (their stored offending rows).
    held, held_assets = [], set()
    for event in invocation.stream():
        if isinstance(event, dg.Output | dg.AssetMaterialization):
            key = _event_key(context, event)
            if key.path[-1] in KEY_FIGURES:
                held_assets.add(key)
                held.append(event)
                continue
        elif isinstance(event, dg.AssetCheckResult) and (not event.passed or event.asset_key in held_assets):
            held.append(event)
            continue
        yield event
    # the key figures of what was built, and the offending rows the failed gates stored (so a failed
    # check names feed, file, row and rule)
    as_of = (end if len(end) == 10 else f"{end}-01") if end else None  # a month's figures are keyed by its 1st
    stored = {r["unique_id"].split(".")[2]: r.get("relation_name")
              for r in invocation.get_artifact("run_results.json").get("results", [])
              if r["unique_id"].startswith("test.") and r.get("status") in ("fail", "error")}
    with warehouse.connect(read_only=True) as con:
        for event in held:
            if isinstance(event, dg.AssetCheckResult) and not event.passed and stored.get(event.check_name):
                rows = _stored_rows(con, stored[event.check_name])
                if rows:
                    first = rows[0]
                    event = event._replace(description=_row_line(first) or event.description).with_metadata(
                        {**(event.metadata or {}), "sample_rows": dg.MetadataValue.json(rows)})
            if isinstance(event, dg.Output | dg.AssetMaterialization):
                extra = key_figure_metadata(con, _event_key(context, event).path[-1], as_of)
                if extra:
                    event = event.with_metadata({**(event.metadata or {}), **extra})
            yield event
    ok = invocation.is_successful()
    description, meta = "", {}
    if not ok:
        with warehouse.connect(read_only=True) as con:
            description, meta = describe_failures(invocation.get_artifact("run_results.json"), con)
        description = description or f"dbt build failed: {invocation.get_error()}"
    if daily:  # the gate log says which dates passed the dbt gates, on which inputs
        from assets.quality.gate_log import record

        with warehouse.connect() as con:
            for day, digest in digests.items():
                record(con, [day], "dbt_build", ok, detail=description, run_id=context.run.run_id,
                       input_digest=digest)
    if not ok:
        raise dg.Failure(description=description, metadata=meta)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _event_key(context: dg.AssetExecutionContext, event) -> dg.AssetKey:
    if isinstance(event, dg.Output):
        return context.assets_def.keys_by_output_name[event.output_name]
    return event.asset_key


def _stored_rows(con, relation: str, sample: int = 5) -> list[dict]:
    try:
        cur = con.execute(f"select * from {relation} limit {sample}")
    except Exception:  # noqa: BLE001 - the failure itself is reported by dbt's own result
        return []
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, map(str, row))) for row in cur.fetchall()]


def _row_line(row: dict) -> str:
    if not {"source_file", "source_row", "rule"} <= row.keys():
        return ""
    return f"{row.get('feed', '')} {row['source_file']}:{row['source_row']}: {row['rule']}: {row.get('detail', '')}".strip()


def describe_failures(run_results: dict, con, sample: int = 5) -> tuple[str, dict]:
    """Failed dbt nodes, and for gate tests that stored their failures, the offending rows
    (feed, file, row, rule, detail) — so the UI names what to fix."""
    lines: list[str] = []
    samples: dict[str, list] = {}
    for r in run_results.get("results", []):
        if r.get("status") not in ("fail", "error"):
            continue
        node = r["unique_id"].split(".")[-1]
        lines.append(f"{node}: {r.get('status')} ({r.get('failures') or r.get('message') or ''})")
        relation = r.get("relation_name")
        if not relation or not r["unique_id"].startswith("test."):
            continue
        rows = _stored_rows(con, relation, sample)
        samples[node] = rows
        lines += [f"  {_row_line(row)}" for row in rows if _row_line(row)]
    meta = {"failed_nodes": dg.MetadataValue.md("\n".join(f"- {x}" for x in lines))} if lines else {}
    if samples:
        meta["sample_rows"] = dg.MetadataValue.json(samples)
    return ("dbt build failed:\n" + "\n".join(lines)) if lines else "", meta


@dbt_assets(
    manifest=manifest_path(),
    project=dbt_project,
    dagster_dbt_translator=translator,
    exclude=MONTHLY,
    partitions_def=business_days,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WRITER_POOL,
    name="dbt_daily_models",
)
def dbt_daily_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    yield from _build(context, dbt, warehouse)


@dbt_assets(
    manifest=manifest_path(),
    project=dbt_project,
    dagster_dbt_translator=translator,
    select=MONTHLY,
    partitions_def=business_months,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WRITER_POOL,
    name="dbt_monthly_models",
)
def dbt_monthly_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    yield from _build(context, dbt, warehouse)


VENV_DBT = Path(sys.executable).with_name("dbt")  # the dbt installed with this interpreter's dbt-core


class DbtCli(DbtCliResource):
    """dagster-dbt's resource minus two per-run costs of ≈ 3 s each (dbt itself runs as a subprocess).

    - the dbt adapter it opens in this process before each invocation serves only
      ``fetch_row_counts`` and ``fetch_column_metadata``, which these assets do not use;
    - it learns the dbt version by running ``dbt --version`` (a dbt start-up) in each new process:
      the dbt beside this interpreter is the installed dbt-core, whose version the metadata gives.
    """

    def _initialize_dbt_core_adapter(self, args):  # noqa: ARG002 - dagster-dbt's signature
        return None

    @cached_property
    def _cli_version(self):
        from importlib.metadata import version as installed

        from packaging import version

        if Path(self.dbt_executable) == VENV_DBT:
            return version.parse(installed("dbt-core"))
        return super()._cli_version


def dbt_resource() -> DbtCliResource:
    # the dbt beside this interpreter (the project's .venv), whether or not the venv is on PATH
    return DbtCli(project_dir=dbt_project, dbt_executable=str(VENV_DBT) if VENV_DBT.exists() else "dbt")
