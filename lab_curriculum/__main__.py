"""``python -m lab_curriculum check [PATH] [--overrides FILE]`` and ``kit --out DIR [--cohort FILE]``."""
from __future__ import annotations

import argparse
import sys

from .kit import read_cohort, render_kit
from .loader import CurriculumError, load_curriculum


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab_curriculum")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="validate a curriculum file (the shipped one by default)")
    check.add_argument("path", nargs="?")
    check.add_argument("--overrides", help="an organisation's overrides file to merge first")
    kit = commands.add_parser("kit", help="write the facilitation kit (HTML and PDF)")
    kit.add_argument("--out", required=True)
    kit.add_argument("--cohort", help="COHORT.json with name, timezone, dates, venue, teams")
    kit.add_argument("--curriculum")
    kit.add_argument("--overrides")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            curriculum = load_curriculum(args.path, args.overrides)
            working = [s for s in curriculum.sessions if not s.is_break]
            print(f"{curriculum.source}: valid — {len(curriculum.sessions)} sessions ({len(working)} working), "
                  f"{curriculum.days} days")
            return 0
        curriculum = load_curriculum(args.curriculum, args.overrides)
        cohort = read_cohort(args.cohort) if args.cohort else None
        files = render_kit(args.out, curriculum, cohort)
        print(f"Wrote {len(files)} files to {args.out}")
        return 0
    except CurriculumError as e:
        for problem in e.problems:
            print(problem, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
