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
    SENT = "sent"  # over SMTP
    WRITTEN = "written"  # as an .eml file (no SMTP_URL)
    FAILED = "failed"  # kept for retry


class ReflectionStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
