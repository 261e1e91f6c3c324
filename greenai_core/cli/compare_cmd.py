"""``greenai compare MODEL... [--data DIR]``: several models under one protocol, energy against accuracy.

The options are ``greenai profile``'s (same names, same defaults), applied to every model.
Positional arguments ending in an image suffix (.png, .jpg...) are the images to profile on;
the others are models. Everything that can be refused is refused before the first model is
profiled. Ctrl-C keeps the models finished: written to every output asked for, marked
incomplete, exit status 130.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from greenai_core.cli.model_args import parse_options
from greenai_core.cli.profile_cmd import EXIT_INTERRUPTED, add_protocol_arguments, check_protocol_arguments
from greenai_core.cli.profile_options import add_report_arguments, carbon_options, check_report_arguments
from greenai_core.cli.progress import Progress
from greenai_core.errors import UsageError


def add_parser(subs: Any, common: argparse.ArgumentParser) -> None:
    p = subs.add_parser(
        "compare", parents=[common], help="several models side by side: energy per inference, accuracy, grade",
        usage="greenai compare MODEL... [IMAGE...|--images DIR|--random] [--data DIR] [--batch-size B] "
              "[--runs N | --min-duration S] [--warmup W] [--repeats R] [--cooldown S] [--baseline S] "
              "[--backend NAME]... [--reference REF.json] [--json F] [--csv F] [--html F] "
              "[--carbon-intensity G_PER_KWH] [--pue P] [model options]")
    p.add_argument("paths", nargs="+", metavar="MODEL",
                   help="model files or folders, any installed formats mixed; arguments ending in an image suffix "
                        "(.png, .jpg, ...) are images to profile on")
    p.add_argument("--data", metavar="DIR",
                   help="a labelled image folder (one subfolder per class, as `greenai train --data`): measures each "
                        "model's top-1 accuracy and draws the Pareto front; without other inputs, its first B images "
                        "are also what the models are profiled on")
    p.add_argument("--images", dest="image_folder", metavar="DIR",
                   help="profile on the images in DIR: the first B by name make the batch (B = --batch-size)")
    p.add_argument("--random", action="store_true",
                   help="profile on random inputs shaped for each model (the default without images or --data)")
    p.add_argument("--reference", metavar="REF.json",
                   help="grading reference (`greenai grade --calibrate` makes one; default: the machine's own, "
                        "when it exists)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N for every model (default: cpu)")
    p.add_argument("--trust", action="store_true",
                   help="allow formats that run code from the file (full pickles); only for files you trust")
    p.add_argument("-o", "--option", action="append", default=[], metavar="[MODEL:]KEY=VALUE",
                   help="model option for every model, e.g. -o image_size=[32,32] (VALUE may be JSON); "
                        "MODEL: (a MODEL argument as given) for that model only, e.g. -o net.pt:input_shape=[3,32,32]")
    add_protocol_arguments(p)
    add_report_arguments(p)
    p.set_defaults(run=run)


def split_paths(paths: list[str]) -> tuple[list[str], list[str]]:
    """(models, images): a path with an image suffix is an image."""
    from greenai_core.models.training import IMAGE_SUFFIXES

    images = [p for p in paths if Path(p).suffix.lower() in IMAGE_SUFFIXES]
    return [p for p in paths if p not in images], images


def split_options(pairs: list[str], models: list[str]) -> tuple[list[str], list[list[str]]]:
    """(options for every model, each model's own): ``MODEL:KEY=VALUE`` is ``models``' MODEL's (exact argument)."""
    shared: list[str] = []
    own: list[list[str]] = [[] for _ in models]
    for pair in pairs:
        owners = [i for i, m in enumerate(models) if pair.startswith(f"{m}:")]
        if not owners:
            shared.append(pair)
            continue
        longest = max(len(models[i]) for i in owners)  # "a.pt" and "a.pt:x" both models: the longer is meant
        for i in owners:
            if len(models[i]) == longest:
                own[i].append(pair[longest + 1:])
    return shared, own


def run(args: argparse.Namespace) -> int:
    from greenai_core.cli.profile_cmd import input_source

    models, args.images = split_paths(args.paths)
    if not models:
        raise UsageError("give at least one model to compare (every argument given is an image)")
    source = input_source(args)
    check_protocol_arguments(args)
    check_report_arguments(args)
    inputs: Any = source if source is not None else ("random" if args.random or args.data is None else None)
    return compare_and_report(models, inputs, args)


def compare_and_report(models: list[str], inputs: Any, args: argparse.Namespace) -> int:
    from greenai_core.cli.output import joules
    from greenai_core.comparison.run import CompareInterrupted, compare

    shared, own = split_options(args.option, models)
    options: dict[str, Any] = {"batch_size": args.batch_size, "runs": args.runs, "repeats": args.repeats,
                               "backends": args.backend, "baseline_s": args.baseline, "cooldown_s": args.cooldown,
                               "data": args.data, "inputs": inputs, "reference": args.reference,
                               "device": args.device, "trust": args.trust, "load_options": parse_options(shared),
                               "model_options": [parse_options(o) for o in own], **carbon_options(args)}
    if args.runs is None:
        options["min_duration_s"] = args.min_duration
    if args.warmup is not None:
        options["warmup"] = args.warmup
    code = 0
    with Progress(len(models) * args.repeats, "comparing", unit="repeat") as bar:
        def on_model(event: dict[str, Any]) -> None:
            where = f"{event['model']} ({event['index'] + 1}/{event['of']})"
            if event["phase"] == "accuracy":
                bar.note(f"{where}: accuracy")
            elif event["phase"] == "profile":
                bar.note(f"{where}: idle baseline and warm-up")
            elif event["phase"] == "repeat":
                repeat = event["repeat"]
                bar.advance(note=f"{where}: repeat {repeat['index']}: "
                                 f"{joules(repeat['energy_j'] / repeat['inferences'])} per inference")

        try:
            report = compare(models, on_model=on_model, **options)
        except CompareInterrupted as stopped:
            report, code = stopped.report, EXIT_INTERRUPTED
    data = report.to_dict()
    out = sys.stderr if args.json == "-" else sys.stdout
    print_compare_summary(data, out)
    for line in write_outputs(report, args):
        print(line, file=out)
    if code == EXIT_INTERRUPTED:
        print("greenai: interrupted; the finished models are in the report, marked incomplete", file=sys.stderr)
    return code


def print_compare_summary(data: dict[str, Any], out: TextIO) -> None:
    """The table (one row per model), then the front, notes and warnings."""
    from greenai_core.cli.output import joules, table
    from greenai_core.cli.profile_summary import figure, seconds

    pareto = (data.get("front") or {}).get("kind") == "pareto"
    marker = "front" if pareto else "cheapest"
    rows = []
    for e in data.get("models") or []:
        grade = e.get("grade") or {}
        letter = "-" if not grade else f"{grade.get('letter')}" + (f" ({grade['stars']}*)" if grade.get("stars")
                                                                    else "")
        accuracy = "-" if e.get("accuracy") is None else \
            f"{e['accuracy'] * 100:.1f} % ({e.get('correct')}/{e.get('evaluated')})"
        rank = "-" if e.get("rank") is None else f"{e['rank']}{' tie' if e.get('tie') else ''}"
        latency = e.get("latency_s") or {}
        rows.append([e.get("name", "?") + ("" if e.get("complete", True) else " (incomplete)"),
                     str(e.get("num_parameters", "-")), seconds(latency["mean"]) if latency else "-",
                     figure(e.get("energy_per_inference_j"), joules), accuracy, letter, rank,
                     "*" if e.get("front") else ""])
    table(rows, ["model", "parameters", "latency", "energy/inference (95% CI)", "accuracy", "grade", "rank", marker],
          out)
    print(file=out)
    front = data.get("front") or {}
    print(f"{'Pareto front' if pareto else 'Cheapest'}: {', '.join(front.get('members') or []) or 'none'}", file=out)
    print(f"  {front.get('note', '')}", file=out)
    print("  models whose 95 % confidence intervals overlap are tied: same rank, never ordered", file=out)
    mappings = {e.get("class_mapping") for e in data.get("models") or [] if e.get("class_mapping")}
    if mappings:
        print(f"  accuracy: outputs matched to the data's classes by {' / '.join(sorted(mappings))}", file=out)
    print(f"  inputs: {data.get('inputs')}; idle baseline: {(data.get('settings') or {}).get('baseline')}", file=out)
    for note in data.get("notes") or []:
        print(f"note: {note}", file=out)
    from greenai_core.comparison.report import warning_lines

    for warning in warning_lines(data):
        print(f"warning: {warning}", file=out)


def write_outputs(report: Any, args: argparse.Namespace) -> list[str]:
    """Write every output asked for (atomically); lines saying where each went."""
    from greenai_core.cli.output import write_json

    written: list[str] = []
    if args.json is not None:
        write_json(report.to_dict(), args.json)
        if args.json != "-":
            written.append(f"JSON report: {args.json}")
    if args.csv is not None:
        report.write_csv(args.csv)
        written.append(f"CSV report: {args.csv}")
    if args.html is not None:
        report.write_html(args.html)
        written.append(f"HTML report: {args.html}")
    return written
