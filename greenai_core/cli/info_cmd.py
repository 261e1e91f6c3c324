"""``greenai info MODEL``: format, parameters, input and output, class names, file size, device."""

from __future__ import annotations

import argparse
from typing import Any

from greenai_core.cli.model_args import add_load_arguments, load_from_args
from greenai_core.cli.output import write_json
from greenai_core.models.spec import format_shape


def add_parser(subs: Any, common: argparse.ArgumentParser) -> None:
    p = subs.add_parser("info", parents=[common], help="describe a model file")
    add_load_arguments(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with load_from_args(args) as model:
        info = model.describe()
    if args.json:
        write_json(info, "-")
        return 0
    inp, out = info["input"], info["output"]
    trainable = info["trainable_parameters"]
    lines = [
        ("model", info["path"]),
        ("format", info["format"]),
        ("file size", f"{info['file_size_bytes']:,} bytes"),
        ("device", info["device"]),
        ("parameters", f"{info['num_parameters']:,}" + ("" if trainable is None else f" ({trainable:,} trainable)")),
        ("input", f"{inp['name']} {format_shape(tuple(inp['shape']))} {inp['layout']} {inp['dtype']}"),
        ("output", f"{out['name']} {format_shape(tuple(out['shape']))} {out['dtype']}" if out else "-"),
        ("labels", f"{info['labels']} ({info['labels_source']})" if info["labels"] is not None else "-"),
    ]
    for key, value in lines:
        print(f"{key:<11} {value}")
    return 0
