"""Options every model subcommand shares, and loading a model from them."""

from __future__ import annotations

import argparse
import json
from typing import Any

from greenai_core.errors import UsageError
from greenai_core.models.loading import load_model
from greenai_core.models.model import Model


def add_load_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL", help="model file or folder")
    p.add_argument("--format", help="force a model format by name (default: recognised by content)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N, any case (default: cpu)")
    p.add_argument("--trust", action="store_true",
                   help="allow formats that run code from the file (full pickles); only for files you trust")
    p.add_argument("--labels", metavar="FILE", help="class names, one per line (overrides those the model carries)")
    p.add_argument("-o", "--option", action="append", default=[], metavar="KEY=VALUE",
                   help="model option, e.g. -o layout=NHWC -o image_size=[224,224] -o model_class=pkg.mod:Net "
                        "(VALUE may be JSON); an unknown KEY lists the valid ones")


def parse_options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"option {pair!r} is not KEY=VALUE")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def load_from_args(args: argparse.Namespace) -> Model:
    options = parse_options(args.option)
    if args.labels is not None:
        options["labels"] = args.labels
    return load_model(args.model, format=args.format, device=args.device, trust=args.trust, **options)
