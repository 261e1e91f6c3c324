"""The ``greenai`` command: one module per subcommand, no logic the Python API lacks.

Errors are one line on stderr (exit 2 for usage and input errors); ``--debug`` shows tracebacks.
A reader that closes our stdout early (``| head``) ends the command quietly with 141.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from greenai_core import __version__
from greenai_core.cli import (
    compare_cmd,
    demo_cmd,
    grade_cmd,
    info_cmd,
    measure_cmd,
    plugins_cmd,
    profile_cmd,
    run_cmd,
    train_cmd,
)
from greenai_core.errors import GreenAIError

SUBCOMMANDS = (plugins_cmd, measure_cmd, info_cmd, run_cmd, profile_cmd, compare_cmd, train_cmd, demo_cmd, grade_cmd)
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 128 + 13  # as if killed by SIGPIPE, what `cmd | head` users expect


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
    if debug:  # frameworks' own diagnostics too (plugins read it, e.g. onnxruntime's warnings)
        os.environ["GREENAI_DEBUG"] = "1"
    try:
        code: int = args.run(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below, not at exit
        return code
    except BrokenPipeError:
        return _stdout_gone()
    except GreenAIError as exc:
        if debug:
            raise
        print(f"greenai: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("greenai: interrupted", file=sys.stderr)
        return 130


def _stdout_gone() -> int:
    """The reader of our stdout went away (``greenai plugins | head -1``): end quietly.

    As the Python docs recommend: point stdout at devnull so that the flush at exit does not
    raise again ("Exception ignored ... BrokenPipeError"), and exit as a process killed by
    SIGPIPE would, 128 + 13.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout has no file descriptor (embedded); nothing to silence
        pass
    finally:
        os.close(devnull)
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
