"""The dbt project as Dagster sees it, and the translator that places its models in the asset graph.

The manifest is prepared once (`make dbt-parse`, CI) rather than on import, so parallel backfill
workers never race to write target/.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from assets.common.settings import REPO_ROOT

DBT_DIR = REPO_ROOT / "dbt_project"
OWNER = "team:risk-analytics"

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)

# layer (dbt folder) -> Dagster group
LAYER_GROUPS = {"staging": "staging", "intermediate": "intermediate", "marts": "metrics"}


def manifest_path() -> Path:
    path = dbt_project.manifest_path
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `make dbt-parse` (dbt parse) before loading the definitions")
    return path


def model_layer(props: Mapping[str, Any]) -> str:
    fqn = props.get("fqn") or []
    return fqn[1] if len(fqn) > 2 and fqn[1] in LAYER_GROUPS else "marts"


class MarginflowTranslator(DagsterDbtTranslator):
    """Keys `<layer>/<model>`, groups by layer, descriptions from the YAML, owner and tags."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props.get("resource_type") == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey([model_layer(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return LAYER_GROUPS.get(model_layer(dbt_resource_props), "metrics")

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        return [OWNER]

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        tags = dict(super().get_tags(dbt_resource_props))
        tags["layer"] = model_layer(dbt_resource_props)
        return tags


translator = MarginflowTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
