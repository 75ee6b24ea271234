"""A richly seeded lab (through the real pages where they exist) and a walk over every stored value.

The subject, Zoe, launches from the LMS, fills her intake with free text, asks for a partner, gets a
private calendar feed, is matched and published with a partner (announcements and calendar invites
go to the outbox), is marked present and reflects; her partner writes about her by name.
"""
from __future__ import annotations

import email
import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import policy

from sqlalchemy import JSON, String, Text

from tests.conftest import csrf_token_in, https_client
from tests.lti_platform import Launcher
from tests.reflections.helpers import reflect

ZOE = dict(sub="zoe-sub-8841", name="Zoe Quenneville", email="zoe.q@example.org")
ZOE_TEXT = {
    "goals": "Hoping to master the Quenneville backhand of stakeholder talks",
    "offers": "zither tuning",
    "wants": "yodel harmonics",
    "department": "Zeta Research Unit",
    "gender_words": None,
    "reflection": "Xanthippe taught me patience with spreadsheets",
}
OTHERS = [  # sub, name, gender, department, offers, wants
    ("ben", "Ben Okafor", "man", "IT", "data analysis", "negotiation"),
    ("cleo", "Cleo Martin", "woman", "HR", "coaching", "python"),
    ("dan", "Dan Raman", "man", "Sales", "python", "coaching"),
]


@dataclass
class Lab:
    cohort_id: int
    zoe_pid: int
    zoe_user_id: int
    clients: dict = field(default_factory=dict)  # sub -> signed-in test client
    facilitator: object = None

    def pid(self, app, sub: str) -> int:
        from lti_tool.extensions import db
        from lti_tool.models import LtiUser, Participant

        with app.app_context():
            return db.session.execute(db.select(Participant.id).join(LtiUser, LtiUser.id == Participant.user_id)
                                      .where(LtiUser.sub == sub, Participant.cohort_id == self.cohort_id)).scalar_one()


def _intake(client, cid, *, gender, department, offers, wants, goals="", gender_words=""):
    page = client.get(f"/learner/cohorts/{cid}/intake")
    response = client.post(f"/learner/cohorts/{cid}/intake", data={
        "csrf_token": csrf_token_in(page), "gender": gender, "gender_self_described": gender_words,
        "department": department, "location": "Berlin", "timezone": "Europe/Berlin", "level": "3", "manager": "",
        "offers_other": offers, "wants_other": wants, "goals": goals, "availability": ["tue-10"], "consent": "y",
        "visible": ["department", "offers", "wants", "gender"], "submit_intake": "Submit intake"})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]


def launch_learner(app, platform, sub, name, email_, cohort="lab"):
    launcher = Launcher(https_client(app), platform)
    response = launcher(role="learner", sub=sub, name=name, email=email_, custom={"cohort": cohort})
    assert response.status_code in (200, 302, 303)
    return launcher.client


def seed_lab(app, platform, *, zoe_gender="woman", zoe_gender_words="") -> Lab:
    from lti_tool.extensions import db
    from lti_tool.models import Cohort, LtiUser, Participant
    from lti_tool.services import lab_day

    clients = {"zoe": launch_learner(app, platform, ZOE["sub"], ZOE["name"], ZOE["email"])}
    for sub, name, *_ in OTHERS:
        clients[sub] = launch_learner(app, platform, sub, name, f"{sub}@example.com")
    with app.app_context():
        cohort = db.session.execute(db.select(Cohort).where(Cohort.slug == "lab")).scalar_one()
        cohort.day_one = date.today() + timedelta(days=40)
        cohort.day_two = cohort.day_one + timedelta(days=1)
        cohort.timezone = "Europe/Berlin"
        db.session.commit()
        cid = cohort.id
    _intake(clients["zoe"], cid, gender=zoe_gender, gender_words=zoe_gender_words,
            department=ZOE_TEXT["department"], offers=f"negotiation, {ZOE_TEXT['offers']}",
            wants=f"data analysis, {ZOE_TEXT['wants']}", goals=ZOE_TEXT["goals"])
    for sub, _name, gender, dept, offers, wants in OTHERS:
        _intake(clients[sub], cid, gender=gender, department=dept, offers=offers, wants=wants)
    with app.app_context():
        ids = {p.user.sub: p.id for p in db.session.execute(db.select(Participant)).scalars()}
        zoe_user = db.session.execute(db.select(LtiUser.id).where(LtiUser.sub == ZOE["sub"])).scalar_one()
    lab = Lab(cid, ids[ZOE["sub"]], zoe_user, clients)
    # Partner requests both ways: Zoe asks for Ben, Cleo asks not to be paired with Zoe.
    for who, other, action in (("zoe", "ben", "request"), ("cleo", ZOE["sub"], "decline")):
        page = clients[who].get(f"/learner/cohorts/{cid}/people")
        response = clients[who].post(f"/learner/cohorts/{cid}/people/{ids[other]}",
                                     data={"csrf_token": csrf_token_in(page), "action": action})
        assert response.status_code in (302, 303)
    # The facilitator proposes and publishes: announcements and invites go to the outbox.
    lab.facilitator = Launcher(https_client(app), platform)
    lab.facilitator(role="instructor", sub="teacher", name="Tess Facilitator", email="tess@example.com",
                    custom={"cohort": "lab"})
    fac = lab.facilitator.client
    page = fac.get(f"/facilitator/cohorts/{cid}")
    started = fac.post(f"/facilitator/cohorts/{cid}/match", data={"csrf_token": csrf_token_in(page)})
    assert started.status_code == 303
    review = fac.get(started.headers["Location"])
    assert "Zoe Quenneville" in review.get_data(as_text=True)
    published = fac.post(started.headers["Location"] + "/publish", data={"csrf_token": csrf_token_in(review)})
    assert published.status_code == 303
    # Zoe's private calendar feed, her attendance, and reflections (hers, and her partner's about her).
    page = clients["zoe"].get("/learner/")
    assert clients["zoe"].post(f"/learner/cohorts/{cid}/feed",
                               data={"csrf_token": csrf_token_in(page)}).status_code == 303
    with app.app_context():
        cohort = db.session.get(Cohort, cid)
        cohort.day_one = date.today() - timedelta(days=10)  # the lab has run: its half-day reflections are open
        cohort.day_two = cohort.day_one + timedelta(days=1)
        db.session.commit()
        lab_day.record_attendance(cohort, "d1-knowledge-map", {ids[ZOE["sub"]], ids["ben"]},
                                  now=lab_day.scheduled_sessions(cohort)[-1].end)  # as if the lab had run
    assert reflect(clients["zoe"], cid, learned_from_partner=ZOE_TEXT["reflection"], gain_self="5",
                   gain_partner="4").status_code in (302, 303)
    assert reflect(clients["ben"], cid, learned_from_partner="Zoe Quenneville showed me how to negotiate",
                   gain_self="4", gain_partner="5").status_code in (302, 303)
    return lab


def message_text(body: str) -> str:
    """A stored RFC 5322 message as a person's mail program shows it: headers and decoded parts."""
    message = email.message_from_string(body, policy=policy.default)
    parts = [f"{k}: {v}" for k, v in message.items()]
    for part in message.walk():
        if not part.is_multipart():
            parts.append((part.get_payload(decode=True) or b"").decode("utf-8", "replace"))
    return re.sub(r"\r?\n[ \t]", "", "\n".join(parts))  # iCalendar folds long lines


def _texts(table, column, value) -> str:
    if value is None:
        return ""
    if table == "outbox_message" and column == "body":
        return value + "\n" + message_text(value)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _objects_about(value, ids: set[str]):
    """JSON objects (at any depth) that are about one of ``ids``: their "id" is one of them."""
    if isinstance(value, dict):
        if str(value.get("id")) in ids:
            yield value
        for v in value.values():
            yield from _objects_about(v, ids)
    elif isinstance(value, list):
        for v in value:
            yield from _objects_about(v, ids)


def traces(app, needles: list[str], participant_ids: set[int], user_ids: set[int]) -> list[str]:
    """Every place, in every table, where something of the person is still stored.

    Text and JSON columns are searched for the needles (any case); JSON objects about the person
    (keyed by their participant id) may hold nothing but a placeholder name; no row may point at
    their participant or user id.
    """
    from lti_tool.extensions import db

    found = []
    lowered = [n.lower() for n in needles]
    pid_text = {str(i) for i in participant_ids}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(table.select()).mappings():
                key = f"{table.name}#{row.get('id', row.get('key'))}"
                for column in table.columns:
                    value = row[column.name]
                    if isinstance(column.type, (String, Text, JSON)):
                        text = _texts(table.name, column.name, value).lower()
                        found += [f"{key}.{column.name}: {n!r}" for n in lowered if n in text]
                    if isinstance(column.type, JSON) and (column.name.endswith(("_ids", "pairs")) or
                                                          column.name == "gains"):
                        flat = json.dumps(value)
                        if any(re.search(rf'(?<![\w.]){i}(?![\w.])', flat) for i in pid_text):
                            found.append(f"{key}.{column.name} lists their participant id")
                    if isinstance(column.type, JSON):
                        for obj in _objects_about(value, pid_text):
                            if set(obj) - {"id", "name"}:
                                found.append(f"{key}.{column.name}: an entry about them keeps {sorted(obj)}")
                    fks = {fk.column.table.name for fk in column.foreign_keys}
                    if not isinstance(value, int):
                        continue
                    if value in participant_ids and ("participant" in fks or column.name.endswith("participant_id")):
                        found.append(f"{key}.{column.name} points at their participant row")
                    if value in user_ids and ("lti_user" in fks or column.name.endswith("user_id")):
                        found.append(f"{key}.{column.name} points at their user row")
                if table.name == "participant" and row["id"] in participant_ids:
                    found.append(f"{key}: their participant row")
                if table.name == "lti_user" and row["id"] in user_ids:
                    found.append(f"{key}: their user row")
    return found


def delete_as(client) -> str:
    page = client.get("/learner/my-data/delete")
    done = client.post("/learner/my-data/delete", data={"csrf_token": csrf_token_in(page), "confirm": "yes"})
    assert done.status_code == 200, done.get_data(as_text=True)[:2000]
    return done.get_data(as_text=True)
