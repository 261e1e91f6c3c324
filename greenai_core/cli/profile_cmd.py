"""``greenai profile MODEL [IMAGE...|--images DIR|--random]``: energy per inference, by the profiling protocol.

Everything that can be refused is refused before work starts: option values and pairs, the
inputs' source, every output path. The model is loaded and the inputs prepared outside the
measured windows (the protocol's rule). Ctrl-C keeps the repeats already finished: they are
written to every output asked for, marked incomplete, and the exit status is 130.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from greenai_core.cli.model_args import add_load_arguments, load_from_args
from greenai_core.cli.profile_options import (
    add_report_arguments,
    carbon_options,
    check_report_arguments,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    write_reports,
)
from greenai_core.cli.profile_summary import print_inference_summary
from greenai_core.cli.progress import Progress
from greenai_core.errors import UsageError
from greenai_core.profiling.inputs import DEFAULT_SIDE, random_inputs

EXIT_INTERRUPTED = 130


def add_parser(subs: Any, common: argparse.ArgumentParser) -> None:
    p = subs.add_parser(
        "profile", parents=[common], help="energy per inference of a model, with repeats and confidence intervals",
        usage="greenai profile MODEL [IMAGE...|--images DIR|--random] [--batch-size B] [--runs N | --min-duration S] "
              "[--warmup W] [--repeats R] [--cooldown S] [--baseline S] [--backend NAME]... [--json F] [--csv F] "
              "[--html F] [--carbon-intensity G_PER_KWH] [--pue P] [model options]")
    add_load_arguments(p)
    p.add_argument("images", nargs="*", metavar="IMAGE", help="image files to run the model on (right after MODEL)")
    p.add_argument("--images", dest="image_folder", metavar="DIR",
                   help="run on the images in DIR: the first B by name make the batch (B = --batch-size)")
    p.add_argument("--random", action="store_true",
                   help=f"random inputs of the model's input shape (dynamic sides: its image_size, else "
                        f"{DEFAULT_SIDE}); the default when no image is given")
    add_protocol_arguments(p)
    add_report_arguments(p)
    p.set_defaults(run=run)


def add_protocol_arguments(p: argparse.ArgumentParser, *, repeats: int = 5, min_duration_s: float = 2.0) -> None:
    p.add_argument("--batch-size", type=positive_int, default=1, metavar="B",
                   help="inferences per predict call (default 1)")
    runs = p.add_mutually_exclusive_group()
    runs.add_argument("--runs", type=positive_int, metavar="N", help="predict calls per repeat (fixed work)")
    runs.add_argument("--min-duration", type=positive_float, default=min_duration_s, metavar="S",
                      help=f"choose the calls per repeat so that each repeat lasts at least S seconds and many "
                           f"sensor updates (default {min_duration_s:g})")
    p.add_argument("--warmup", type=non_negative_int, metavar="W",
                   help="predict calls before the first repeat, not measured; their timing chooses the calls "
                        "per repeat (default 10)")
    p.add_argument("--repeats", type=positive_int, default=repeats, metavar="R",
                   help=f"measured repeats, for the mean and its confidence interval (default {repeats})")
    p.add_argument("--cooldown", type=non_negative_float, default=0.0, metavar="S",
                   help="idle seconds between repeats (default 0)")


def run(args: argparse.Namespace) -> int:
    source = input_source(args)  # before the model loads: a wrong folder costs nothing
    check_protocol_arguments(args)
    check_report_arguments(args)
    with load_from_args(args) as model:
        inputs, described = prepare_inputs(model, source, args.batch_size)
        return profile_and_report(model, inputs, described, args)


def check_protocol_arguments(args: argparse.Namespace) -> None:
    if args.warmup == 0 and args.runs is None:
        raise UsageError("--warmup 0 needs --runs N: the calls that choose the predict calls per repeat must come "
                         "after a warm-up")


def input_source(args: argparse.Namespace) -> list[str] | None:
    """The image files to profile on, or None for random inputs; checks the choice is one."""
    chosen = [name for name, given in (("IMAGE arguments", bool(args.images)),
                                       ("--images", args.image_folder is not None),
                                       ("--random", args.random)) if given]
    if len(chosen) > 1:
        raise UsageError(f"give one source of inputs, not {' and '.join(chosen)}")
    if args.images:
        return list(args.images)
    if args.image_folder is not None:
        return folder_images(args.image_folder, args.batch_size)
    return None


def folder_images(folder: str, limit: int) -> list[str]:
    """The first ``limit`` image files of ``folder`` by name (not recursive).

    The protocol runs one batch over and over, so the first batch's worth of images is all it
    uses: the folder is listed, and only those are ever opened.
    """
    from greenai_core.models.training import IMAGE_SUFFIXES

    path = Path(folder)
    try:
        entries = sorted(e.name for e in os.scandir(path) if e.is_file() and Path(e.name).suffix.lower()
                         in IMAGE_SUFFIXES and not e.name.startswith("."))
    except NotADirectoryError:
        raise UsageError(f"{folder}: --images needs a folder of images; this is a file") from None
    except FileNotFoundError:
        raise UsageError(f"{folder}: no such folder") from None
    except OSError as exc:
        raise UsageError(f"{folder}: cannot list the folder ({exc.strerror or exc})") from None
    if not entries:
        suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
        raise UsageError(f"{folder}: no image files in the folder (looked for {suffixes})")
    return [str(path / name) for name in entries[:limit]]


def prepare_inputs(model: Any, source: list[str] | None, batch_size: int) -> tuple[Any, str]:
    """What the protocol gets (image paths, or a ready random array) and how the summary names it."""
    if source is not None:
        used = source[:batch_size]
        names = used[0] if len(used) == 1 else f"{len(used)} images ({used[0]} ... {used[-1]})"
        repeated = f", repeated to fill the batch of {batch_size}" if len(used) < batch_size else ""
        left = f" (the first {batch_size} of {len(source)} given: one batch is run over and over)" \
            if len(source) > batch_size else ""
        return source, f"{names}{repeated}{left}"
    batch = random_inputs(model, batch_size)
    from greenai_core.models.spec import format_shape

    return batch, f"random, {format_shape(tuple(batch.shape))} {batch.dtype} (seed 0)"


def profile_and_report(model: Any, inputs: Any, described: str, args: argparse.Namespace) -> int:
    from greenai_core.cli.output import joules
    from greenai_core.profiling.inference import profile_inference
    from greenai_core.profiling.report import ProfilingInterrupted

    options: dict[str, Any] = {"batch_size": args.batch_size, "runs": args.runs, "repeats": args.repeats,
                               "backends": args.backend, "baseline_s": args.baseline, "cooldown_s": args.cooldown,
                               **carbon_options(args)}
    if args.runs is None:
        options["min_duration_s"] = args.min_duration
    if args.warmup is not None:
        options["warmup"] = args.warmup
    code = 0
    with Progress(args.repeats, "profiling", unit="repeat") as bar:
        bar.note("idle baseline and warm-up")

        def on_repeat(repeat: dict[str, Any]) -> None:
            bar.advance(note=f"repeat {repeat['index']}: {joules(repeat['energy_j'] / repeat['inferences'])} "
                             "per inference")

        options["on_repeat"] = on_repeat
        try:
            data = profile_inference(model, inputs, **options).to_dict()
        except ProfilingInterrupted as stopped:
            data, code = stopped.report.to_dict(), EXIT_INTERRUPTED
    out = summary_stream(args)
    print_inference_summary(data, described, out)
    for line in write_reports(data, args):
        print(line, file=out)
    if code == EXIT_INTERRUPTED:
        print("greenai: interrupted; the finished repeats are in the report, marked incomplete", file=sys.stderr)
    return code


def summary_stream(args: argparse.Namespace) -> TextIO:
    """stdout, unless the JSON goes there (``--json -``)."""
    return sys.stderr if args.json == "-" else sys.stdout
