"""python -m cnn_homework check NOTEBOOK [--timeout S]: the self-check before you submit."""

from __future__ import annotations

import argparse
import sys

from .selfcheck import check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cnn_homework", description="Check a homework notebook before you submit it.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="validate the file, run it in a fresh kernel, report the public checks")
    p.add_argument("notebook")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds one cell may take (default 120)")
    args = parser.parse_args(argv)
    return check(args.notebook, timeout=args.timeout)


if __name__ == "__main__":
    sys.exit(main())
