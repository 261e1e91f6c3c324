"""``greenai train MODEL --data DIR``: train through the core's loop, with energy per epoch, step and sample.

As for ``greenai profile``: the data folder, option values and every output (``--save-to``
included) are checked before the model loads; Ctrl-C keeps the finished part, writes it to every
output asked for, marked incomplete, and exits 130.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from greenai_core.cli.model_args import add_load_arguments, load_from_args
from greenai_core.cli.profile_cmd import EXIT_INTERRUPTED, summary_stream
from greenai_core.cli.profile_options import (
    add_report_arguments,
    carbon_options,
    check_report_arguments,
    positive_float,
    positive_int,
    write_reports,
)
from greenai_core.cli.profile_summary import print_training_summary
from greenai_core.cli.progress import Progress
from greenai_core.models.trainer import OPTIMIZERS

if TYPE_CHECKING:
    from greenai_core.models.training import StepInfo

def add_parser(subs: Any, common: argparse.ArgumentParser) -> None:
    p = subs.add_parser(
        "train", parents=[common], help="train a model on an image folder, with energy per epoch, step and sample",
        usage="greenai train MODEL --data DIR [--epochs E] [--batch-size B] [--lr LR] [--optimizer adam|sgd] "
              "[--seed N] [--save-to PATH] [--baseline S] [--backend NAME]... [--json F] [--csv F] [--html F] "
              "[--carbon-intensity G_PER_KWH] [--pue P] [model options]")
    add_load_arguments(p)
    p.add_argument("--data", required=True, metavar="DIR",
                   help="training images, one subfolder per class (classes in name order)")
    p.add_argument("--epochs", type=positive_int, default=1, metavar="E", help="passes over the data (default 1)")
    p.add_argument("--batch-size", type=positive_int, default=32, metavar="B", help="images per step (default 32)")
    p.add_argument("--lr", type=positive_float, default=1e-3, metavar="LR", help="learning rate (default 0.001)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="adam or sgd (default adam)")
    p.add_argument("--seed", type=int, metavar="N", help="seed of the shuffling (and the framework's), for a "
                                                        "reproducible run")
    p.add_argument("--save-to", metavar="PATH", help="save the trained model there (atomically, its own file kind)")
    add_report_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from greenai_core.models.training import ImageFolder

    folder = ImageFolder.scan(args.data)  # a wrong folder is one line before the model loads
    check_report_arguments(args, also={"--save-to": args.save_to})
    with load_from_args(args) as model:
        return train_and_report(model, args, len(folder.samples), f"{args.data} ({len(folder.samples)} images, "
                                                                   f"{len(folder.classes)} classes)")


def train_and_report(model: Any, args: argparse.Namespace, samples: int, described: str) -> int:
    from greenai_core.profiling.report import ProfilingInterrupted
    from greenai_core.profiling.training import profile_training

    options: dict[str, Any] = {"epochs": args.epochs, "batch_size": args.batch_size, "optimizer": args.optimizer,
                               "lr": args.lr, "seed": args.seed, "save_to": args.save_to, "backends": args.backend,
                               "baseline_s": args.baseline, **carbon_options(args)}
    code = 0
    steps_per_epoch = -(-samples // args.batch_size)  # the last batch may be short
    with Progress(args.epochs * steps_per_epoch, "training", unit="step") as bar:
        bar.note("idle baseline")

        def on_step(info: StepInfo) -> None:
            bar.advance(note=f"epoch {info.epoch}, loss {info.loss:.4g}")

        options["on_step"] = on_step
        try:
            data = profile_training(model, args.data, **options).to_dict()
        except ProfilingInterrupted as stopped:
            data, code = stopped.report.to_dict(), EXIT_INTERRUPTED
    out = summary_stream(args)
    print_training_summary(data, described, out)
    if args.save_to is not None and code == 0:
        print(f"model saved: {args.save_to}", file=out)
    for line in write_reports(data, args):
        print(line, file=out)
    if code == EXIT_INTERRUPTED:
        print("greenai: interrupted; the finished part is in the report, marked incomplete", file=sys.stderr)
    return code
