"""The ``greenai`` command: one module per subcommand, no logic the Python API lacks.

Errors are one line on stderr (exit 2 for usage and input errors); ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from greenai_core import __version__
from greenai_core.cli import info_cmd, measure_cmd, plugins_cmd, run_cmd
from greenai_core.errors import GreenAIError

SUBCOMMANDS = (plugins_cmd, measure_cmd, info_cmd, run_cmd)
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not usage + message
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show tracebacks on errors")
    parser = _Parser(prog="greenai", parents=[common],
                     description="Energy of ML models and of any code, from hardware counters or an estimate.")
    parser.add_argument("--version", action="version", version=f"greenai {__version__}")
    subs = parser.add_subparsers(dest="subcommand", metavar="COMMAND", parser_class=_Parser)
    subs.required = True
    for module in SUBCOMMANDS:
        module.add_parser(subs, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False)
    try:
        code: int = args.run(args)
        return code
    except GreenAIError as exc:
        if debug:
            raise
        print(f"greenai: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("greenai: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
