"""Seed a deployment's cohorts, participants, teams, attendance and reflections directly in the DB."""
from __future__ import annotations

from datetime import date, datetime, timedelta


def seed(app, platform_issuer=None, *, cohorts=2, per_cohort=6, departments=("Finance",), course_id=None,
         reflections=True, start=date(2026, 3, 2)):
    from lti_tool.extensions import db
    from lti_tool.models import Attendance, Cohort, Course, LtiUser, Participant, Reflection, Team

    with app.app_context():
        course = db.session.get(Course, course_id) if course_id else db.session.execute(db.select(Course)).scalars().first()
        platform_id = course.deployment.platform_id
        made = []
        for c in range(cohorts):
            cohort = Cohort(course_id=course.id, slug=f"seed-{c}-{db.session.execute(db.select(db.func.count(Cohort.id))).scalar()}",
                            name=f"Cohort {c + 1}", day_one=start + timedelta(days=30 * c),
                            day_two=start + timedelta(days=30 * c + 1))
            db.session.add(cohort)
            db.session.flush()
            ids = []
            for i in range(per_cohort):
                user = LtiUser(platform_id=platform_id, sub=f"seed-{cohort.id}-{i}", lms_name=f"P{i}",
                               lms_email=f"p{cohort.id}-{i}@example.com")
                db.session.add(user)
                db.session.flush()
                p = Participant(cohort_id=cohort.id, user_id=user.id, department=departments[i % len(departments)],
                                gender="woman" if i % 2 else "man", intake_submitted_at=datetime(2026, 3, 1))
                db.session.add(p)
                db.session.flush()
                ids.append(p.id)
                for sid in ("d1-welcome", "d2-goals"):
                    db.session.add(Attendance(cohort_id=cohort.id, participant_id=p.id, session_id=sid))
                if reflections:
                    db.session.add(Reflection(participant_id=p.id, cohort_id=cohort.id, session_id="d1-morning",
                                              answers={"learned_from_partner": f"SECRET-{p.id}", "gain_self": 4,
                                                       "gain_partner": 3},
                                              visibility={}, status="submitted",
                                              submitted_at=datetime.combine(cohort.day_one, datetime.min.time())))
            for a, b in zip(ids[::2], ids[1::2]):
                db.session.add(Team(cohort_id=cohort.id, member_ids=[a, b], score=0.7, gains={str(a): 1, str(b): 1}))
            made.append(cohort.id)
        db.session.commit()
        return made


def person(dept="Finance", gender="woman", ratings=(), attended=True):
    """One participant for ``add_cohort``: ``ratings`` is a list of (gain_self, gain_partner, submitted datetime)."""
    return {"dept": dept, "gender": gender, "ratings": list(ratings), "attended": attended}


def add_cohort(app, name, day_one, people, teams=()):
    """A cohort of the first course with exactly these people, reflections and teams (score per pair of indexes).

    Every rating is a submitted reflection of its own session (one reflection per session per person).
    Returns the cohort id and the participant ids in order.
    """
    from lti_tool.extensions import db
    from lti_tool.models import Cohort, Course

    with app.app_context():
        course = db.session.execute(db.select(Course).order_by(Course.id)).scalars().first()
        cohort = Cohort(course_id=course.id, slug=f"{name.lower().replace(' ', '-')}-{day_one.isoformat()}",
                        name=name, day_one=day_one, day_two=day_one + timedelta(days=1))
        db.session.add(cohort)
        db.session.commit()
        cid = cohort.id
    return cid, add_people(app, cid, people, teams)


def add_people(app, cohort_id, people, teams=()):
    """Add these people (see ``person``) and teams to an existing cohort; returns their participant ids."""
    from lti_tool.extensions import db
    from lti_tool.models import Attendance, Cohort, LtiUser, Participant, Reflection, Team
    from lti_tool.services.curriculum import half_day_reflections

    sessions = [r.id for r in half_day_reflections()]
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        start = db.session.execute(db.select(db.func.count(Participant.id))
                                   .where(Participant.cohort_id == cohort_id)).scalar()
        ids = []
        for i, spec in enumerate(people, start=start):
            user = LtiUser(platform_id=cohort.course.deployment.platform_id, sub=f"{cohort.slug}-{i}",
                           lms_name=f"{cohort.name} {i}", lms_email=f"{cohort.id}-{i}@example.com")
            db.session.add(user)
            db.session.flush()
            p = Participant(cohort_id=cohort.id, user_id=user.id, department=spec["dept"], gender=spec["gender"],
                            intake_submitted_at=datetime(2026, 1, 5))
            db.session.add(p)
            db.session.flush()
            ids.append(p.id)
            if spec["attended"]:
                for sid in ("d1-welcome", "d2-goals"):
                    db.session.add(Attendance(cohort_id=cohort.id, participant_id=p.id, session_id=sid))
            for k, (gain_self, gain_partner, when) in enumerate(spec["ratings"]):
                db.session.add(Reflection(participant_id=p.id, cohort_id=cohort.id, session_id=sessions[k],
                                          answers={"learned_from_partner": f"SECRET-{p.id}-{k}",
                                                   "gain_self": gain_self, "gain_partner": gain_partner},
                                          visibility={}, status="submitted", submitted_at=when))
        for a, b, score in teams:
            db.session.add(Team(cohort_id=cohort.id, member_ids=[ids[a], ids[b]], score=score,
                                gains={str(ids[a]): 1, str(ids[b]): 1}))
        db.session.commit()
        return ids


# --- reading what L&D is shown: page tables and CSV downloads, as an attacker would ---------------------------

HIDDEN = "HIDDEN"  # a cell L&D cannot read (the page's or the CSV's marker)
MARKERS = ("not shown", "suppressed")


def _cell(text: str):
    text = " ".join(text.split())
    if text.lower() in MARKERS:
        return HIDDEN
    try:
        return float(text.rstrip("%"))
    except ValueError:
        return text or None


def page_tables(html: str) -> dict:
    """Every ``<table id="table-KEY">`` of an insights page as {key: {row label: {column: value}}}."""
    from html.parser import HTMLParser

    class Parser(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tables, self.key, self.row, self.text, self.in_cell = {}, None, None, "", False

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "table" and (attrs.get("id") or "").startswith("table-"):
                self.key = attrs["id"][6:]
                self.tables[self.key] = []
            elif self.key and tag == "tr":
                self.row = []
            elif self.key and tag in ("td", "th") and self.row is not None:
                self.in_cell, self.text = True, ""

        def handle_endtag(self, tag):
            if tag == "table":
                self.key = None
            elif self.key and tag in ("td", "th") and self.in_cell:
                self.row.append(" ".join(self.text.split()))
                self.in_cell = False
            elif self.key and tag == "tr" and self.row is not None:
                self.tables[self.key].append(self.row)
                self.row = None

        def handle_data(self, data):
            if self.in_cell:
                self.text += data

    parser = Parser()
    parser.feed(html)
    return {key: _as_dict(rows) for key, rows in parser.tables.items()}


def _as_dict(rows: list[list[str]]) -> dict:
    if not rows:
        return {}
    header = rows[0]
    out = {}
    for row in rows[1:]:
        if len(row) != len(header):
            continue  # "No data for these filters."
        out[row[0]] = {column: _cell(value) for column, value in zip(header[1:], row[1:])}
    return out


def csv_table(client, key: str, query: str = "") -> dict:
    """A CSV download as {row label: {column: value}}; a trailing note column or note row is ignored."""
    import csv
    import io

    response = client.get(f"/insights/export/{key}.csv" + (f"?{query}" if query else ""))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    header = rows[0]
    if header and header[-1] == "Note":
        header, rows = header[:-1], [r[:-1] for r in rows]
    return _as_dict([header] + [r for r in rows[1:] if len(r) == len(header)])


def shown(*values) -> bool:
    """True when every value is a number L&D can read."""
    return all(isinstance(v, float) for v in values)
