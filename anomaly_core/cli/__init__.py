"""The ``anomaly`` command line: one module per subcommand, each adding its parser here."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from ..errors import AnomalyError

# Subcommand modules, each with ``add_parser(subparsers)`` that sets ``func`` on its parser.
_COMMANDS = ("generate", "train", "score", "benchmark", "registry_cmd", "drift_cmd", "serve")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(prog="anomaly", description="anomaly-platform command line")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMANDS:
        try:
            module = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as err:
            if err.name == f"{__name__}.{name}":  # that subcommand is not built yet
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # boto's per-call chatter ("Found credentials ...") is noise on stderr
        for noisy in ("botocore", "boto3", "urllib3", "matplotlib"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.func(args) or 0)
    except AnomalyError as err:
        # One line naming the problem; the traceback only with --verbose.
        logging.getLogger("anomaly").debug("failed", exc_info=True)
        sys.stderr.write(f"anomaly {args.command}: error: {err}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("anomaly: interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
