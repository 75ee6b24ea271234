"""Command line: ``python -m matching solve POOL.json [-o RESULT.json]``.

Bad input prints one message naming the participant and field and exits with status 2; so does a
must-pair a manager line, a never-pair or a decline refuses (the message names the people), and
a POOL.json with no participants (on the command line that is the wrong file; the library returns
an empty result). Anything else a must-pair breaks keeps the team: exit 0, ``stats.warnings``.
"""
from __future__ import annotations

import argparse
import json
import sys

from . import MatchingError, solve
from ._pool import read_pool


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m matching", description="Reciprocal team matching.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("solve", help="match a pool (POOL.json) into teams")
    run.add_argument("pool", help="POOL.json, or - for standard input")
    run.add_argument("-o", "--output", help="write RESULT.json here instead of standard output")
    args = parser.parse_args(argv)
    try:
        if args.pool == "-":
            data = json.load(sys.stdin)
        else:
            with open(args.pool, encoding="utf-8") as handle:
                data = json.load(handle)
    except OSError as e:
        print(f"error: cannot read {args.pool}: {e.strerror}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as e:
        print(f"error: {args.pool} is not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}", file=sys.stderr)
        return 2
    try:
        if isinstance(data, dict) and data.get("participants") == []:
            read_pool(data)  # raises the plain "no participants" error
        result = solve(data)
    except MatchingError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
