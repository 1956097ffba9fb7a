"""The dashboards in ``deploy/grafana``, read as Grafana would: their panels, each
panel's data source, and for a Redis panel the exact command it sends and the
rows it shows.

A Redis panel names the fields it shows in a ``filterFieldsByName``
transformation, and keeps rows with ``filterByValue`` (``equal``) ones; stream
commands add ``$streamId`` and ``$time`` to every row, as the plugin does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from tests.conftest import REPO

GRAFANA: Final = REPO / "deploy" / "grafana"
DASHBOARDS: Final = sorted((GRAFANA / "dashboards").glob("*.json"))
STREAM_COMMANDS: Final = {"xrange", "xrevrange"}


def provisioned_datasources() -> dict[str, str]:
    """uid -> type of every provisioned data source."""
    found: dict[str, str] = {}
    for path in (GRAFANA / "provisioning" / "datasources").glob("*.yaml"):
        for source in yaml.safe_load(path.read_text())["datasources"]:
            found[source["uid"]] = source["type"]
    return found


def load(path: Path) -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(path.read_text())
    return dashboard


def panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # a collapsed row's panels


def fill(text: str, robot: str) -> str:
    return text.replace("${robot}", robot).replace("$robot", robot)


@dataclass(frozen=True)
class RedisQuery:
    command: list[str]
    shows: list[str]
    keep: list[tuple[str, str]]
    """(field, value) pairs a row must hold to be shown."""
    kind: str


def redis_query(panel: Mapping[str, Any], target: Mapping[str, Any], robot: str) -> RedisQuery:
    """The command the Redis data source sends for ``target``, as a Redis argument list."""
    if target.get("query"):
        command = fill(target["query"], robot).split()
        kind = command[0].lower()
    else:
        kind = target["command"]
        key = fill(target["keyName"], robot)
        count = ["COUNT", str(target["count"])] if target.get("count") else []
        by_kind = {
            "xrange": ["XRANGE", key, target.get("start") or "-", target.get("end") or "+", *count],
            "xrevrange": ["XREVRANGE", key, target.get("end") or "+", target.get("start") or "-", *count],
            "xinfoStream": ["XINFO", "STREAM", key],
            "hgetall": ["HGETALL", key],
        }
        command = by_kind[kind]
    shows: list[str] = []
    keep: list[tuple[str, str]] = []
    for step in panel.get("transformations", []):
        if step["id"] == "filterFieldsByName":
            shows.extend(step["options"]["include"]["names"])
        elif step["id"] == "filterByValue":
            for rule in step["options"]["filters"]:
                assert rule["config"]["id"] == "equal", f"{panel['title']}: only 'equal' value filters are checked"
                keep.append((rule["fieldName"], str(rule["config"]["options"]["value"])))
    assert shows, f"{panel['title']}: a Redis panel names the fields it shows (filterFieldsByName)"
    return RedisQuery(command, shows, keep, kind)


def rows(kind: str, reply: Any) -> list[dict[str, str]]:
    """The reply as the plugin's rows: one per stream entry, one for a hash, one per XINFO field."""
    if kind in STREAM_COMMANDS:
        return [{"$streamId": entry_id, "$time": entry_id.split("-")[0], **fields} for entry_id, fields in reply]
    if kind == "hgetall":
        return [dict(reply)] if reply else []
    if kind == "xinfoStream":
        pairs = reply.items() if isinstance(reply, Mapping) else zip(reply[::2], reply[1::2], strict=True)
        return [{"Field": str(k), "Value": str(v)} for k, v in pairs]
    raise AssertionError(f"no rows known for {kind}")


def prometheus_expressions(robot: str) -> Iterator[tuple[str, str, str]]:
    """(dashboard, panel, expression with Grafana's variables filled) of every Prometheus target."""
    for path in DASHBOARDS:
        dashboard = load(path)
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                if target["datasource"]["type"] == "prometheus":
                    expr = fill(target["expr"], robot)
                    for variable, value in (("$__rate_interval", "1m"), ("$__interval", "5s"), ("$__range", "1h")):
                        expr = expr.replace(variable, value)
                    yield dashboard["title"], panel["title"], expr
