"""A cohort's roster: from the LMS (Names and Role Provisioning Services) or from a CSV file."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from pylti1p3.exception import LtiException
from pylti1p3.names_roles import NamesRolesProvisioningService

from ..extensions import db
from ..lti.roles import LEARNER, map_roles
from ..lti.sync import _get_or_create, placeholder_sub, user_for
from ..lti.tool_config import service_connector
from ..models import Cohort, Course, LtiUser, Membership, Participant
from ..states import ParticipantStatus

CSV_COLUMNS = ["name", "email", "department", "location"]
CSV_REQUIRED = ["name", "email"]


class RosterError(Exception):
    """The roster could not be read; ``problems`` lists each with its row number."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class RosterResult:
    added: int = 0
    already: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)


def _enrol(cohort: Cohort, user: LtiUser, result: RosterResult) -> None:
    exists = db.session.execute(
        db.select(Participant).where(Participant.cohort_id == cohort.id, Participant.user_id == user.id)
    ).scalars().first()
    if exists:
        result.already += 1
        if exists.status == ParticipantStatus.WITHDRAWN:
            result.notes.append(f"{user.name or user.sub} had withdrawn and was left as is.")
        return
    _get_or_create(Participant, cohort_id=cohort.id, user_id=user.id)  # a launch or another sync may add them too
    result.added += 1


def sync_from_lms(cohort_id: int) -> RosterResult:
    """Add the course's active learners (NRPS, every page) to the cohort."""
    cohort = db.session.get(Cohort, cohort_id)
    course: Course = cohort.course
    if not course.nrps_url:
        raise RosterError(["The LMS did not offer its roster service for this course (no NRPS claim in the launch)."])
    platform = course.deployment.platform
    connector = service_connector(platform)
    service = NamesRolesProvisioningService(connector, {"context_memberships_url": course.nrps_url})
    try:
        members = service.get_members()
    except (LtiException, OSError, ValueError) as e:
        raise RosterError([f"The LMS roster could not be read: {e}"]) from e
    result = RosterResult()
    for member in members:
        roles = map_roles(member.get("roles") or [])
        if member.get("status", "Active") != "Active" or LEARNER not in roles or not member.get("user_id"):
            result.skipped += 1
            continue
        user = user_for(platform.id, str(member["user_id"]), member.get("email"))
        user.lms_name = member.get("name") or " ".join(
            p for p in (member.get("given_name"), member.get("family_name")) if p) or user.lms_name
        user.lms_email = member.get("email") or user.lms_email
        membership = _get_or_create(Membership, course_id=course.id, user_id=user.id)
        membership.lti_roles, membership.tool_roles = list(member.get("roles") or []), roles
        _enrol(cohort, user, result)
    db.session.commit()
    return result


def csv_template() -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerow(["Ana Costa", "ana.costa@example.com", "Finance", "Lisbon"])
    return out.getvalue()


def parse_csv(data: bytes) -> list[dict]:
    """Rows of a roster CSV, or RosterError naming every bad row (nothing is imported then)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RosterError([f"The file is not UTF-8 text (byte {e.start}). Save it as 'CSV UTF-8'."]) from e
    reader = csv.DictReader(io.StringIO(text))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    problems = []
    missing = [c for c in CSV_REQUIRED if c not in headers]
    unknown = [h for h in headers if h and h not in CSV_COLUMNS]
    if missing:
        problems.append(f"Row 1: missing column(s) {', '.join(missing)}.")
    if unknown:
        problems.append(f"Row 1: unknown column(s) {', '.join(unknown)}; allowed: {', '.join(CSV_COLUMNS)}.")
    if problems:
        raise RosterError(problems)
    rows, seen = [], {}
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if None in raw:
            problems.append(f"Row {number}: more values than columns.")
            continue
        if not any(row.values()):
            continue
        if not row.get("name"):
            problems.append(f"Row {number}: name is empty.")
        try:
            row["email"] = validate_email(row.get("email", ""), check_deliverability=False).normalized.lower()
        except EmailNotValidError as e:
            problems.append(f"Row {number}: email {row.get('email')!r} is not valid ({e}).")
        else:
            if row["email"] in seen:
                problems.append(f"Row {number}: email {row['email']} is already in row {seen[row['email']]}.")
            seen[row["email"]] = number
        rows.append(row)
    if not rows and not problems:
        problems.append("The file has no rows below the header.")
    if problems:
        raise RosterError(problems)
    return rows


def import_csv(cohort: Cohort, data: bytes) -> RosterResult:
    """Import a CSV roster all-or-nothing; people are matched to LMS accounts by email at first launch."""
    rows = parse_csv(data)
    platform_id = cohort.course.deployment.platform_id
    result = RosterResult()
    for row in rows:
        user = db.session.execute(db.select(LtiUser).where(
            LtiUser.platform_id == platform_id,
            db.or_(LtiUser.lms_email == row["email"], LtiUser.email == row["email"],
                   LtiUser.sub == placeholder_sub(row["email"])))).scalars().first()
        if user is None:
            user = LtiUser(platform_id=platform_id, sub=placeholder_sub(row["email"]), lms_name=row["name"],
                           lms_email=row["email"])
            db.session.add(user)
            db.session.flush()
        membership = _get_or_create(Membership, course_id=cohort.course_id, user_id=user.id)
        if not membership.tool_roles:
            membership.tool_roles = [LEARNER]
        _enrol(cohort, user, result)
        participant = db.session.execute(db.select(Participant).where(
            Participant.cohort_id == cohort.id, Participant.user_id == user.id)).scalar_one()
        participant.department = participant.department or row.get("department") or None
        participant.location = participant.location or row.get("location") or None
    db.session.commit()
    return result


def sync_from_lms_job(cohort_id: int) -> dict:
    """Job wrapper: the result as plain data for the job queue."""
    result = sync_from_lms(cohort_id)
    return {"added": result.added, "already": result.already, "skipped": result.skipped}
