"""Speaking to the reader: the matcher's reasons are written about everyone in the third person
("Ana Costa offers Negotiation, which Ben Okafor wants to learn"); on Ana's own page they read
"You offer Negotiation, which Ben Okafor wants to learn". Only the sentence shapes the matcher writes
(matching/_explain.py) are rewritten; anything else is shown as it is.
"""
from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import ngettext


def _shapes(me: str) -> list[tuple[re.Pattern, object]]:
    name = re.escape(me)
    return [
        (re.compile(rf"{name} offers (?P<skills>.+), which (?P<other>.+) wants to learn"),
         lambda m: _("You offer %(skills)s, which %(name)s wants to learn", skills=m["skills"], name=m["other"])),
        (re.compile(rf"(?P<other>.+) offers (?P<skills>.+), which {name} wants to learn"),
         lambda m: _("%(name)s offers %(skills)s, which you want to learn", skills=m["skills"], name=m["other"])),
        (re.compile(rf"{name} gains nothing in skills from this team"),
         lambda m: _("You gain nothing in skills from this team")),
        (re.compile(rf"(?:{name} and (?P<a>.+)|(?P<b>.+) and {name}) both asked to work together"),
         lambda m: _("You and %(name)s both asked to work together", name=m["a"] or m["b"])),
        (re.compile(rf"{name} asked to work with (?P<other>.+)"),
         lambda m: _("You asked to work with %(name)s", name=m["other"])),
        (re.compile(rf"(?P<other>.+) asked to work with {name}"),
         lambda m: _("%(name)s asked to work with you", name=m["other"])),
        (re.compile(r"(?P<n>\d+) hours apart in time zones"),
         lambda m: ngettext("%(num)s hour apart in time zones", "%(num)s hours apart in time zones", int(m["n"]))),
    ]


def reasons_for_reader(reasons: list[str], me: str | None) -> list[str]:
    """``reasons`` as ``me`` should read them: their own name becomes "you"; unknown shapes unchanged."""
    shapes = _shapes(me) if me else _shapes("\0")  # "\0" never matches a name: only name-free shapes apply
    out = []
    for reason in reasons or []:
        for pattern, write in shapes:
            match = pattern.fullmatch(reason)
            if match:
                out.append(write(match))
                break
        else:
            out.append(reason)
    return out
