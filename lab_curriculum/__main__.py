"""Command line: ``python -m lab_curriculum check [PATH] [--overrides FILE]`` and
``python -m lab_curriculum kit --out DIR [--cohort COHORT.json] [--format html|pdf]``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .core import CurriculumError, load_curriculum


def _load(path, overrides):
    return load_curriculum(path, overrides=Path(overrides) if overrides else None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab_curriculum")
    sub = parser.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="validate a curriculum file (exit 0 valid, 2 invalid)")
    c.add_argument("path", nargs="?", help="curriculum YAML (default: the shipped lab)")
    c.add_argument("--overrides", help="organisation overrides YAML (default: config/curriculum/overrides.yaml if present)")
    k = sub.add_parser("kit", help="write the facilitation kit as HTML and PDF")
    k.add_argument("--out", required=True, help="output directory")
    k.add_argument("--cohort", help="COHORT.json with dates, time zone, teams and pods")
    k.add_argument("--curriculum", help="curriculum YAML (default: the shipped lab)")
    k.add_argument("--overrides", help="organisation overrides YAML")
    k.add_argument("--format", action="append", choices=["html", "pdf"], help="repeatable; default both")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "check":
            cur = _load(args.path, args.overrides)
            n = sum(1 for s in cur.sessions if not s.is_break)
            print(f"{cur.source}: OK - {len(cur.sessions)} sessions ({n} working sessions) over {cur.days} day(s)")
            return 0
        cur = _load(args.curriculum, args.overrides)
        cohort = None
        if args.cohort:
            try:
                cohort = json.loads(Path(args.cohort).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                print(f"{args.cohort}: cannot read cohort: {exc}", file=sys.stderr)
                return 2
        from .kit import render_kit
        paths = render_kit(args.out, curriculum=cur, cohort=cohort, formats=tuple(args.format or ("html", "pdf")))
        for p in paths:
            print(p)
        return 0
    except CurriculumError as exc:
        for p in exc.problems:
            print(str(p), file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{getattr(exc, 'filename', None) or 'kit'}: {exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
