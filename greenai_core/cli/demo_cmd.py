"""``greenai demo``: the main job on a fresh machine, in seconds.

Profiles the bundled sample CNN (``greenai_core/data/sample_cnn.onnx``, through the ONNX plugin)
on the bundled image, with every available sensor and the estimate for what none covers, and
writes an HTML report whose path it prints. The settings are short (a 1 s baseline, 3 repeats
of at least 0.5 s): a demonstration, not a figure to publish; ``greenai profile`` takes the
protocol's defaults.
"""

from __future__ import annotations

import argparse
from typing import Any

from greenai_core.cli.profile_cmd import profile_and_report, summary_stream
from greenai_core.cli.profile_options import check_report_arguments
from greenai_core.errors import UsageError

DEFAULT_HTML = "greenai-demo.html"
DEMO_REPEATS = 3
DEMO_MIN_DURATION_S = 0.5
#: Enough warm-up calls for their median time to choose the calls per repeat well (a call takes ~0.2 ms).
DEMO_WARMUP = 100
DEMO_BASELINE_S = 1.0


def add_parser(subs: Any, common: argparse.ArgumentParser) -> None:
    p = subs.add_parser("demo", parents=[common],
                        help="profile the bundled sample model on whatever sensor exists, and write an HTML report")
    p.add_argument("--html", default=DEFAULT_HTML, metavar="PATH",
                   help=f"where the HTML report goes (default ./{DEFAULT_HTML})")
    p.add_argument("--json", metavar="PATH|-", help="also write the report as JSON")
    p.set_defaults(run=run)


def demo_args(args: argparse.Namespace) -> argparse.Namespace:
    """The options ``greenai profile`` would take for the demo."""
    return argparse.Namespace(
        html=args.html, json=args.json, csv=None, batch_size=1, runs=None, min_duration=DEMO_MIN_DURATION_S,
        warmup=DEMO_WARMUP, repeats=DEMO_REPEATS, cooldown=0.0, backend=None, baseline=DEMO_BASELINE_S,
        carbon_intensity=None, pue=None)


def run(args: argparse.Namespace) -> int:
    from greenai_core.data import sample_image_path, sample_model_path
    from greenai_core.models.loading import load_model
    from greenai_core.plugins import get_registry

    options = demo_args(args)
    check_report_arguments(options)
    if "onnx" not in get_registry().formats():
        raise UsageError("the demo's sample model is ONNX and the ONNX plugin is not installed "
                         "(pip install plugins/greenai-onnx, or greenai-onnx)")
    image = str(sample_image_path())
    with load_model(sample_model_path(), format="onnx") as model:
        code = profile_and_report(model, [image], f"1 image {image} (the bundled sample)", options)
    print(f"open {args.html} in a browser for the report and its power chart"
          if code == 0 else f"the report so far is in {args.html}", file=summary_stream(options))
    return code
