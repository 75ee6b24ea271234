"""Database models.

Course data is always reached through a ``Course`` row, which is keyed by (platform issuer,
deployment id, context id): a launch from one course or platform never sees another's rows.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db
from .states import OutboxStatus, ParticipantStatus, ReflectionStatus, RunKind, RunStatus, TeamStatus


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Platform(db.Model):
    """An LMS registration: one issuer may hold several client ids."""

    __tablename__ = "platform"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    auth_token_url: Mapped[str] = mapped_column(String(1000))
    auth_audience: Mapped[str | None] = mapped_column(String(1000))
    jwks_url: Mapped[str | None] = mapped_column(String(1000))
    # Inline key set, used instead of jwks_url (the development platform).
    key_set: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    registered_via: Mapped[str] = mapped_column(String(20), default="manual")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deployments: Mapped[list["Deployment"]] = relationship(back_populates="platform")


class Deployment(db.Model):
    __tablename__ = "deployment"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    platform: Mapped[Platform] = relationship(back_populates="deployments")
    # A new random number at every commit that changes what the L&D insights read (services/insights_store.py):
    # the audited page is kept per process under it instead of re-reading the whole deployment. Random, not a
    # counter, so a deployment deleted and created again (or a database restored) never meets an old number.
    insights_version: Mapped[int] = mapped_column(BigInteger, default=lambda: secrets.randbits(62),
                                                  server_default="0")


class RegistrationInvite(db.Model):
    """A one-time link an administrator made for one LMS's Dynamic Registration.

    Only the SHA-256 of the token is stored, so a copy of the database cannot register a platform.
    ``lms_origin`` (optional) pins the LMS that may use the link and may frame the registration page.
    """

    __tablename__ = "registration_invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    lms_origin: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platform.id", ondelete="SET NULL"))


class ToolKey(db.Model):
    """The tool's RSA signing keys; the newest active key signs, retired ones stay in JWKS a while."""

    __tablename__ = "tool_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(100), unique=True)
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()


class UsedNonce(db.Model):
    """Nonces of accepted launches, so an identical id_token posted again is refused."""

    __tablename__ = "used_nonce"
    __table_args__ = (UniqueConstraint("issuer", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    nonce: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class CacheEntry(db.Model):
    """Shared key-value store for pylti1p3's launch data when no Redis is configured."""

    __tablename__ = "cache_entry"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    expires_at: Mapped[datetime | None] = mapped_column(index=True)


class LtiUser(db.Model):
    """A person as one platform knows them: (platform, sub). Names and email may be absent."""

    __tablename__ = "lti_user"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"))
    sub: Mapped[str] = mapped_column(String(255))
    lms_name: Mapped[str | None] = mapped_column(String(255))
    lms_email: Mapped[str | None] = mapped_column(String(320))
    display_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    locale: Mapped[str | None] = mapped_column(String(35))  # of the last launch: mail is written in it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_launch_at: Mapped[datetime | None] = mapped_column()

    platform: Mapped[Platform] = relationship()

    @property
    def name(self) -> str | None:
        return self.display_name or self.lms_name

    @property
    def contact_email(self) -> str | None:
        return self.email or self.lms_email

    @property
    def needs_profile(self) -> bool:
        return not self.name or not self.contact_email


class Course(db.Model):
    """An LMS course (LTI context) scoped to the platform and deployment it came from."""

    __tablename__ = "course"
    __table_args__ = (UniqueConstraint("deployment_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(500), default="")
    label: Mapped[str] = mapped_column(String(255), default="")
    nrps_url: Mapped[str | None] = mapped_column(String(1000))
    ags_lineitems_url: Mapped[str | None] = mapped_column(String(1000))
    ags_scopes: Mapped[list[str] | None] = mapped_column(JSON)

    deployment: Mapped[Deployment] = relationship()
    cohorts: Mapped[list["Cohort"]] = relationship(back_populates="course", order_by="Cohort.id")


class Membership(db.Model):
    """A user's roles in a course, refreshed at every launch."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("course_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id"), index=True)
    lti_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    tool_roles: Mapped[list[str]] = mapped_column(JSON, default=list)

    user: Mapped[LtiUser] = relationship()
    course: Mapped[Course] = relationship()


class ResourceLink(db.Model):
    __tablename__ = "resource_link"
    __table_args__ = (UniqueConstraint("course_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    resource_link_id: Mapped[str] = mapped_column(String(1000))
    title: Mapped[str] = mapped_column(String(500), default="")
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id"))
    ags_lineitem_url: Mapped[str | None] = mapped_column(String(1000))


class Cohort(db.Model):
    """One run of the two-day lab inside a course."""

    __tablename__ = "cohort"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    day_one: Mapped[date | None] = mapped_column()
    day_two: Mapped[date | None] = mapped_column()
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    venue: Mapped[str | None] = mapped_column(String(500))
    video_link: Mapped[str | None] = mapped_column(String(1000))
    capacity: Mapped[int] = mapped_column(default=24)
    # Matching policy as `matching` takes it (cross_gender, department, weights, ...).
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    facilitator_user_id: Mapped[int | None] = mapped_column(ForeignKey("lti_user.id"))
    # Facilitator overrides for the next matching run: [[participant_id, participant_id], ...]
    pinned_pairs: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    forbidden_pairs: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    schedule_mode: Mapped[str] = mapped_column(String(20), default="blocks")  # blocks | sessions
    published_run_id: Mapped[int | None] = mapped_column(ForeignKey("match_run.id", use_alter=True))
    # The attendance marks the last attendance change replaced, so it can be undone:
    # {"label": ..., "at": ..., "marks": [[participant_id, session_id, present or null], ...]}
    attendance_undo: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship(back_populates="cohorts")
    participants: Mapped[list["Participant"]] = relationship(back_populates="cohort")


class Participant(db.Model):
    """A person in one cohort, with their intake profile (saved as a draft as they go)."""

    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("lti_user.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ParticipantStatus.ENROLLED)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Intake. gender: woman | man | non-binary | self-described | undisclosed
    gender: Mapped[str | None] = mapped_column(String(30))
    gender_self_described: Mapped[str | None] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[int | None] = mapped_column()
    manager_participant_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id"))
    manager_name: Mapped[str | None] = mapped_column(String(200))  # a manager outside the roster
    offers: Mapped[list[str]] = mapped_column(JSON, default=list)  # most important first
    wants: Mapped[list[str]] = mapped_column(JSON, default=list)
    offers_other: Mapped[str | None] = mapped_column(Text)
    wants_other: Mapped[str | None] = mapped_column(Text)
    goals: Mapped[str | None] = mapped_column(Text)
    availability: Mapped[list[str]] = mapped_column(JSON, default=list)  # slot names, cohort time zone
    consent: Mapped[bool] = mapped_column(default=False)
    visible_fields: Mapped[list[str]] = mapped_column(JSON, default=list)  # shown to other participants
    intake_updated_at: Mapped[datetime | None] = mapped_column()
    intake_submitted_at: Mapped[datetime | None] = mapped_column()
    withdrawn_at: Mapped[datetime | None] = mapped_column()  # when they said they can no longer take part
    withdrawal_reason: Mapped[str | None] = mapped_column(String(20))  # optional, a WithdrawalReason code

    cohort: Mapped[Cohort] = relationship(back_populates="participants")
    user: Mapped[LtiUser] = relationship()

    @property
    def intake_complete(self) -> bool:
        return self.intake_submitted_at is not None


class PartnerPreference(db.Model):
    """A learner's request for, or decline of, another participant before matching."""

    __tablename__ = "partner_preference"
    __table_args__ = (UniqueConstraint("from_participant_id", "to_participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    from_participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    to_participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    kind: Mapped[str] = mapped_column(String(10))  # request | decline
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MatchRun(db.Model):
    """One run of the matcher for a cohort: the proposal a facilitator reviews, then publishes."""

    __tablename__ = "match_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("lti_user.id"))
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.QUEUED)
    progress: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20), default=RunKind.FULL)
    pool: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column()


class TeamMember(db.Model):
    """One person in a team; ``position`` keeps the order the matcher gave (a, b, then c)."""

    __tablename__ = "team_member"
    __table_args__ = (UniqueConstraint("team_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)


class Team(db.Model):
    """A published reciprocal mentoring team (a pair, or a trio when numbers force it)."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    match_run_id: Mapped[int | None] = mapped_column(ForeignKey("match_run.id"))
    memberships: Mapped[list[TeamMember]] = relationship(order_by=TeamMember.position, cascade="all, delete-orphan",
                                                         lazy="selectin")
    score: Mapped[float] = mapped_column(default=0.0)
    gains: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)  # participant id -> gain
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    pod: Mapped[int | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default=TeamStatus.ACTIVE)
    # The facilitator's choice of weekly slot for the follow-up series ("tue-10"); None: first shared slot.
    follow_up_slot: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def member_ids(self) -> list[int]:
        """The members' participant ids, in the matcher's order."""
        return [m.participant_id for m in self.memberships]

    @member_ids.setter
    def member_ids(self, ids) -> None:
        kept = {m.participant_id: m for m in self.memberships}
        self.memberships = [kept.get(pid) or TeamMember(participant_id=pid) for pid in ids]
        for position, member in enumerate(self.memberships):
            member.position = position

    @classmethod
    def having_member(cls, participant_id: int):
        """A condition for ``select(Team)``: the team includes this participant."""
        return cls.memberships.any(TeamMember.participant_id == participant_id)


class Attendance(db.Model):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("participant_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    session_id: Mapped[str] = mapped_column(String(100))
    present: Mapped[bool] = mapped_column(default=True)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarEvent(db.Model):
    """An event we have published: its UID stays, SEQUENCE rises whenever what matters changes."""

    __tablename__ = "calendar_event"
    __table_args__ = (UniqueConstraint("uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    uid: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # lab | follow_up
    sequence: Mapped[int] = mapped_column(default=0)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="CONFIRMED")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The newest version delivered to anyone (None: to nobody yet), set when a message carrying it is
    # delivered; who holds what is kept per person (HeldInvite). ``sent_spec`` is the event as it was
    # last mailed, the text a later cancellation is built from.
    sent_sequence: Mapped[int | None] = mapped_column()
    sent_spec: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class HeldInvite(db.Model):
    """What one person holds of one event: the version of it last delivered to them (an invite or
    update), or that they were delivered its cancellation. Written only when a message is delivered
    (``services.held_invites``), never when it is queued."""

    __tablename__ = "held_invite"
    __table_args__ = (UniqueConstraint("event_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("calendar_event.id"))
    email: Mapped[str] = mapped_column(String(320))  # lower case
    sequence: Mapped[int] = mapped_column()
    cancelled: Mapped[bool] = mapped_column(default=False)
    overrides: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # override id -> its version held
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowUpOverride(db.Model):
    """One meeting of a team's follow-up series moved or cancelled (a RECURRENCE-ID override)."""

    __tablename__ = "follow_up_override"
    __table_args__ = (UniqueConstraint("event_id", "recurrence_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("calendar_event.id"))  # the series
    recurrence_id: Mapped[datetime] = mapped_column()  # the occurrence's original start, UTC
    start: Mapped[datetime | None] = mapped_column()  # its new start, UTC; None when cancelled
    cancelled: Mapped[bool] = mapped_column(default=False)
    sequence: Mapped[int] = mapped_column(default=1)
    sent_sequence: Mapped[int | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CheckIn(db.Model):
    """One person's answer to "Did you meet?" after one meeting of their team's follow-up series.

    ``occurrence`` is the meeting's original start (its RECURRENCE-ID, UTC), so a moved meeting keeps
    its check-in; ``answer`` is a CheckInAnswer or None while unanswered.
    """

    __tablename__ = "check_in"
    __table_args__ = (UniqueConstraint("participant_id", "team_id", "occurrence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    occurrence: Mapped[datetime] = mapped_column()  # the meeting's original start, UTC
    meeting_start: Mapped[datetime] = mapped_column()  # when it took place (moved or not), UTC
    answer: Mapped[str | None] = mapped_column(String(10))
    answered_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarFeed(db.Model):
    """A private subscription feed: a random token for one participant (or a cohort's facilitator)."""

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id"))  # None: whole cohort
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class OutboxMessage(db.Model):
    """Every message is written here first, so a failed send is kept, shown and retried."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)  # the whole RFC 5322 message
    message_id: Mapped[str | None] = mapped_column(String(255))  # its Message-ID header, the same on every try
    kind: Mapped[str | None] = mapped_column(String(40), index=True)  # the email template, e.g. intake_reminder
    # For calendar mail, what its delivery gives the recipient (``services.held_invites``): a list of
    # {"event": id, "sequence": n, "change": "request" | "occurrence" | "cancel", "overrides": {id: n}}.
    carries: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Reflection(db.Model):
    """A learner's answers to one session's prompts, with who may see each answer.

    ``answers`` maps prompt id -> text or integer rating; ``visibility`` maps prompt id -> "me" |
    "partner" | "facilitator". Who may read what is decided in one place: services.visibility.
    """

    __tablename__ = "reflection"
    __table_args__ = (UniqueConstraint("participant_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    session_id: Mapped[str] = mapped_column(String(100))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    visibility: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=ReflectionStatus.DRAFT)
    submitted_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnonymousRating(db.Model):
    """Numeric gain ratings kept without identity when a learner deletes their data (aggregates stay)."""

    __tablename__ = "anonymous_rating"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id"), index=True)
    session_id: Mapped[str] = mapped_column(String(100))
    gain_self: Mapped[int | None] = mapped_column()
    gain_partner: Mapped[int | None] = mapped_column()
    submitted_on: Mapped[date | None] = mapped_column()


class InsightTally(db.Model):
    """Submitted reflections summed per participant and month of submission, for the L&D insights.

    Derived data, kept equal to what ``services.insights_store.tally_select`` computes from
    ``reflection`` (rows with ``participant_id``) and ``anonymous_rating`` (rows without: one per cohort and
    month) by the session hooks of ``services/insights_store.py`` at every commit. No foreign keys: rows
    are rewritten at commit, after a deletion of the participant in the same transaction.
    """

    __tablename__ = "insight_tally"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(index=True)
    participant_id: Mapped[int | None] = mapped_column(index=True)
    month: Mapped[str | None] = mapped_column(String(7))  # "YYYY-MM"; None when the date is not recorded
    reflections: Mapped[int] = mapped_column(default=0)
    gs_sum: Mapped[int] = mapped_column(default=0)
    gs_n: Mapped[int] = mapped_column(default=0)
    gp_sum: Mapped[int] = mapped_column(default=0)
    gp_n: Mapped[int] = mapped_column(default=0)


class GradeSync(db.Model):
    """The last AGS score sent (or tried) for one participant on one resource link."""

    __tablename__ = "grade_sync"
    __table_args__ = (UniqueConstraint("participant_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    resource_link_id: Mapped[int] = mapped_column(ForeignKey("resource_link.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | sent | failed
    score_given: Mapped[float | None] = mapped_column()
    score_maximum: Mapped[float | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()


class AuditEvent(db.Model):
    """What a facilitator, L&D administrator, learner or the command line did with people's data.

    Ids only, no personal free text: ``details`` holds counts, ids and short codes (``audit.record``
    refuses anything else). The scope columns are plain ids, not foreign keys, so the log outlives
    the cohort, course or user it mentions.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    platform_id: Mapped[int | None] = mapped_column()
    deployment_id: Mapped[int | None] = mapped_column(index=True)  # deployment.id: whose L&D may read it
    course_id: Mapped[int | None] = mapped_column()
    cohort_id: Mapped[int | None] = mapped_column()
    actor_user_id: Mapped[int | None] = mapped_column()  # None: the command line, or a learner's own deletion
    actor_role: Mapped[str] = mapped_column(String(30))  # facilitator | lnd | learner | cli | platform
    action: Mapped[str] = mapped_column(String(40), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
