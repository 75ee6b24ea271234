"""The curriculum as frozen dataclasses (built from a validated data file)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time


@dataclass(frozen=True)
class Prompt:
    id: str
    text: str
    kind: str  # text | rating
    scale_min: int | None = None
    scale_max: int | None = None


@dataclass(frozen=True)
class Activity:
    title: str
    minutes: int
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Session:
    id: str
    day: int
    start_offset_minutes: int
    duration_minutes: int
    kind: str  # plenary | pod | team | break
    title: str
    day_start: time
    objectives: tuple[str, ...] = ()
    activities: tuple[Activity, ...] = ()
    materials: tuple[str, ...] = ()
    facilitator_notes: tuple[str, ...] = ()
    prompts: tuple[Prompt, ...] = ()

    @property
    def start(self) -> time:
        minutes = self.day_start.hour * 60 + self.day_start.minute + self.start_offset_minutes
        return time(minutes // 60, minutes % 60)

    @property
    def end_offset_minutes(self) -> int:
        return self.start_offset_minutes + self.duration_minutes

    @property
    def is_break(self) -> bool:
        return self.kind == "break"


@dataclass(frozen=True)
class FollowUp:
    interval_weeks: int
    count: int
    duration_minutes: int
    agenda: tuple[str, ...]
    prompts: tuple[Prompt, ...]


@dataclass(frozen=True)
class Curriculum:
    id: str
    title: str
    days: int
    day_start: time
    max_day_minutes: int
    sessions: tuple[Session, ...]
    follow_up: FollowUp
    source: str = ""
    translations: dict = field(default_factory=dict)

    def session(self, session_id: str) -> Session:
        for session in self.sessions:
            if session.id == session_id:
                return session
        raise KeyError(session_id)

    def title_in(self, session: Session, locale: str | None) -> str:
        """The session title in a locale, when the organisation translated it."""
        return (self.translations.get(locale or "", {}) or {}).get(session.id, session.title)


@dataclass(frozen=True)
class ScheduledSession:
    session: Session
    start: datetime  # time-zone aware
    end: datetime


@dataclass(frozen=True)
class Block:
    """A half day of non-break sessions: one calendar invite by default."""
    day: int
    label: str  # morning | afternoon
    start: datetime
    end: datetime
    sessions: tuple[ScheduledSession, ...]
