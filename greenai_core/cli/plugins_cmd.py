"""``greenai plugins``: every discovered plugin, what it registers, each backend's probe, and faults.

A backend whose constructor or probe raises is listed as unavailable with its error; a
plugin's faults after loading (that, or a format whose ``sniff`` raised) are listed under
the tables (and in ``--json`` as each plugin's ``errors``). Nothing here raises for a plugin.
"""

from __future__ import annotations

import argparse
from typing import Any

from greenai_core.cli.output import table, write_json
from greenai_core.plugins import get_registry


def add_parser(subs: Any, common: argparse.ArgumentParser) -> None:
    p = subs.add_parser("plugins", parents=[common], help="list plugins, formats and energy backends")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(run=run)


def collect() -> dict[str, Any]:
    registry = get_registry()
    backends = {}
    for name in registry.backend_names():
        probe = registry.probe(name)  # never raises: a failing constructor or probe reads as unavailable
        backends[name] = {"plugin": registry.backend_owner(name), "method": registry.backend_class(name).method,
                          "available": probe.available, "reason": probe.reason}
    formats = {name: {"plugin": registry.format_owner(name), "suffixes": list(fmt.suffixes),
                      "description": fmt.description}
               for name, fmt in registry.formats().items()}
    # Plugins last: probing above may have recorded new faults against them.
    return {"plugins": [r.to_dict() for r in registry.plugins()], "formats": formats, "backends": backends}


def run(args: argparse.Namespace) -> int:
    data = collect()
    if args.json:
        write_json(data, "-")
        return 0
    rows = []
    for p in data["plugins"]:
        status = p["status"] if p["status"] != "error" else f"error: {p['error']}"
        if p["errors"]:
            status += f" ({len(p['errors'])} fault{'s' if len(p['errors']) > 1 else ''}, below)"
        rows.append([p["name"], p["distribution"] or "-", p["version"] or "-", status,
                     ", ".join(p["formats"]) or "-", ", ".join(p["backends"]) or "-"])
    table(rows, ["plugin", "distribution", "version", "status", "formats", "backends"])
    print()
    table([[n, b["method"], "available" if b["available"] else "unavailable", b["reason"]]
           for n, b in data["backends"].items()], ["backend", "method", "probe", "detail"])
    faults = [(p["name"], e) for p in data["plugins"] for e in p["errors"]]
    if faults:
        print()
        table([[name, error] for name, error in faults], ["plugin", "fault"])
    return 0
