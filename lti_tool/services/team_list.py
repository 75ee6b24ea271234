"""The published teams as a list a facilitator can search and export: members, pod, quality, meeting time."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Cohort, Participant
from . import matchmaking, teams
from .slots import slot_label

BANDS = {"strong": _l("strong"), "good": _l("good"), "weak": _l("weak")}
CSV_COLUMNS = [_l("Team"), _l("Pod"), _l("Name"), _l("Email"), _l("Department"), _l("Location"),
               _l("Partner(s)"), _l("Match quality"), _l("Weekly follow-up time")]


@dataclass(frozen=True)
class TeamRow:
    number: int  # 1, 2, 3 ... in the order the teams were formed
    pod: int | None
    members: list[Participant]
    band: str  # strong | good | weak
    follow_up: str  # the weekly time in words, or ""

    def names(self) -> list[str]:
        return [p.user.name or "" for p in self.members]


def _matches(row: TeamRow, query: str) -> bool:
    words = query.casefold().split()
    text = " ".join(" ".join(filter(None, (p.user.name, p.user.contact_email, p.department, p.location)))
                    for p in row.members).casefold()
    return all(word in text for word in words)


def published_teams(cohort: Cohort) -> list[TeamRow]:
    """The cohort's active teams, numbered in the order they were formed."""
    rows = []
    for number, team in enumerate(teams.active_teams(cohort), start=1):
        people = teams.participants_by_id(team.member_ids)
        members = [people[i] for i in team.member_ids if i in people]
        rows.append(TeamRow(number, team.pod, members, matchmaking.quality_band({"gains": team.gains or {}}),
                            str(slot_label(team.follow_up_slot)) if team.follow_up_slot else ""))
    return rows


def search(rows: list[TeamRow], query: str) -> list[TeamRow]:
    """The teams where every word of ``query`` is in a member's name, email, department or location (any case)."""
    return [row for row in rows if _matches(row, query)] if query.strip() else rows


def csv_rows(cohort: Cohort):
    """One line per person (so a spreadsheet can sort and filter by anyone), partners named alongside.

    The teams are read as the lines are streamed (by then the view's session is gone: read afresh).
    """
    cohort_id = cohort.id
    yield from _csv_rows(db.session.get(Cohort, cohort_id))


def _csv_rows(cohort: Cohort):
    for row in published_teams(cohort):
        names = row.names()
        for person in row.members:
            partners = ", ".join(n for p, n in zip(row.members, names) if p.id != person.id)
            yield [row.number, row.pod or "", person.user.name or "", person.user.contact_email or "",
                   person.department or "", person.location or "", partners, str(BANDS[row.band]), row.follow_up]
