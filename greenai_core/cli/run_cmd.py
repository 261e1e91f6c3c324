"""``greenai run MODEL IMAGE...``: the top-K classes of each image."""

from __future__ import annotations

import argparse
from typing import Any

from greenai_core.cli.model_args import add_load_arguments, load_from_args
from greenai_core.cli.output import write_json
from greenai_core.errors import UsageError
from greenai_core.models.topk import top_k


def add_parser(subs: Any, common: argparse.ArgumentParser) -> None:
    p = subs.add_parser("run", parents=[common], help="classify images with a model")
    add_load_arguments(p)
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    p.add_argument("--top", type=int, default=5, metavar="K", help="classes to show per image (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise UsageError("--top must be at least 1")
    with load_from_args(args) as model:
        outputs = model.predict(list(args.images))
        labels, labels_source = model.labels, model.labels_source
    results, scores_are = top_k(outputs, args.top, labels)
    if args.json:
        write_json({"model": args.model, "scores": scores_are, "labels_source": labels_source,
                    "images": [{"image": img, "top": top} for img, top in zip(args.images, results, strict=True)]},
                   "-")
        return 0
    print(f"scores: {scores_are}")
    print(f"class names: {labels_source or 'none (class indices shown; --labels FILE names them)'}")
    for image, top in zip(args.images, results, strict=True):
        print(image)
        for entry in top:
            print(f"  {entry['label']:<24} {entry['score']:.4f}")
    return 0
