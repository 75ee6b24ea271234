"""The curriculum as frozen dataclasses (built from a validated data file)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time


def _by_id(items, item_id: str):
    """The item with this id (KeyError when there is none)."""
    found = next((item for item in items if item.id == item_id), None)
    if found is None:
        raise KeyError(item_id)
    return found


@dataclass(frozen=True)
class Prompt:
    id: str
    text: str
    kind: str  # text | rating
    scale_min: int | None = None
    scale_max: int | None = None


@dataclass(frozen=True)
class Round:
    """Reporting to the whole room: every ``unit`` (or a ``sample`` of them) speaks for ``minutes_each``."""
    unit: str  # person | team | group | pod | mixed | room
    minutes_each: float
    sample: int | None = None


@dataclass(frozen=True)
class Activity:
    title: str
    minutes: int
    steps: tuple[str, ...]  # what the facilitator does
    format: str = ""  # room | team | pod | group | solo | mixed
    purpose: str = ""
    say: str = ""  # what the facilitator says to launch it
    card: tuple[str, ...] = ()  # participant instructions (the activity card)
    transition: str = ""  # the line that leads into what comes next
    material_ids: tuple[str, ...] = ()
    turns_minutes: float | None = None  # minutes per person when the team or group takes turns
    round: Round | None = None
    harvest: bool = False
    reflection: bool = False


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
    materials: tuple[str, ...] = ()  # titles of everything the session uses (session and activities)
    facilitator_notes: tuple[str, ...] = ()
    prompts: tuple[Prompt, ...] = ()
    purpose: str = ""
    key_messages: tuple[str, ...] = ()
    debrief: tuple[str, ...] = ()
    virtual: tuple[str, ...] = ()
    disclosure: bool = False  # invites personal stories: the safety protocol applies
    safety: str = ""
    material_ids: tuple[str, ...] = ()

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

    @property
    def harvest(self) -> Activity | None:
        return next((a for a in self.activities if a.harvest), None)


@dataclass(frozen=True)
class AgendaItem:
    minutes: int
    item: str


@dataclass(frozen=True)
class Meeting:
    number: int
    week: int
    title: str
    agenda: tuple[AgendaItem, ...]


@dataclass(frozen=True)
class FollowUp:
    interval_weeks: int
    count: int
    duration_minutes: int
    agenda: tuple[str, ...]
    prompts: tuple[Prompt, ...]
    meetings: tuple[Meeting, ...] = ()
    check_ins: tuple[dict, ...] = ()  # {week, title, detail}
    stalled: tuple[str, ...] = ()
    sponsorship: str = ""


@dataclass(frozen=True)
class Material:
    id: str
    title: str
    kind: str  # print | supply | bring
    per: str  # participant | team | pod | group | facilitator | room | team-and-pod
    document: str | None = None  # the kit document that holds it (print only)
    count: int = 1
    extra: int = 0
    format: str = ""
    included: bool = False  # part of another printed document (no separate print run)
    sheets: int = 1  # A4 sheets in one copy (a set of cards on two sheets: 2)
    per_sheet: int = 1  # copies on one A4 sheet (identical A6 cards: 4)


@dataclass(frozen=True)
class HalfDayReflection:
    """One short reflection per half day, taken during the session ``after`` (its reflection activity)."""
    id: str
    day: int
    half: str  # morning | afternoon
    after: str  # session id
    title: str
    prompts: tuple[Prompt, ...]


@dataclass(frozen=True)
class Instrument:
    id: str
    title: str
    when: str
    intro: str
    items: tuple[Prompt, ...]


@dataclass(frozen=True)
class EvaluationLevel:
    level: int
    name: str
    question: str
    instruments: tuple[str, ...]
    when: str
    target: str


@dataclass(frozen=True)
class Evaluation:
    levels: tuple[EvaluationLevel, ...] = ()
    instruments: tuple[Instrument, ...] = ()

    def instrument(self, instrument_id: str) -> Instrument:
        return _by_id(self.instruments, instrument_id)


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
    room: dict = field(default_factory=dict)  # sizing rules (see rules.ROOM_DEFAULTS)
    materials: tuple[Material, ...] = ()
    half_day_reflections: tuple[HalfDayReflection, ...] = ()
    evaluation: Evaluation = field(default_factory=Evaluation)
    texts: dict = field(default_factory=dict)  # case, glossary, agreements, safety, pre_work, briefings
    language: str = "en"  # of the participant-facing text (titles, prompts, follow-up agenda)

    def session(self, session_id: str) -> Session:
        return _by_id(self.sessions, session_id)

    def material(self, material_id: str) -> Material:
        return _by_id(self.materials, material_id)

    def reflection_after(self, session_id: str) -> HalfDayReflection | None:
        """The half-day reflection taken during this session, if any."""
        return next((r for r in self.half_day_reflections if r.after == session_id), None)

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
