"""The states rows move through, named once (the database stores their string values)."""
from __future__ import annotations

from enum import StrEnum


class ParticipantStatus(StrEnum):
    ENROLLED = "enrolled"
    WITHDRAWN = "withdrawn"


class TeamStatus(StrEnum):
    ACTIVE = "active"
    DISSOLVED = "dissolved"  # a partner left, or a later proposal replaced the team


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class RunKind(StrEnum):
    FULL = "full"
    REMATCH = "rematch"  # only the people a drop-out affected


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by one worker until next_attempt_at (its lease)
    SENT = "sent"  # over SMTP
    WRITTEN = "written"  # as an .eml file (no SMTP_URL)
    FAILED = "failed"  # retried by itself at next_attempt_at
    ATTENTION = "attention"  # out of tries, or a send was interrupted: a facilitator looks and retries


class ReflectionStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class CheckInAnswer(StrEnum):
    """The answer to "Did you meet?" after a follow-up meeting."""

    YES = "yes"  # we met
    MOVED = "moved"  # we moved it to another time
    NO = "no"  # we did not meet


class WithdrawalReason(StrEnum):
    """Why someone left (optional; only ever counted, never shown next to a name)."""

    TIME = "time"  # no time, workload
    JOB = "job"  # changed role or left the organisation
    PERSONAL = "personal"  # health or personal reasons
    EXPECTATIONS = "expectations"  # the lab is not what I expected
    PARTNER = "partner"  # the pairing did not work for me
    OTHER = "other"
