"""The curriculum's participant-facing text in other languages: one overlay file per language.

``data/translations/<language>.yaml`` (next to the curriculum file) holds, keyed by the curriculum's
stable ids, the text participants read in the app, in mail and in calendar invites: the curriculum
title, every session's title and prompts, every half-day reflection's title and prompts, and the
follow-up meetings' agenda and prompts. Ids, kinds, times and structure come from the curriculum file
only; an overlay may not name an id the curriculum does not have. A field the overlay leaves out
stays English. The facilitation kit (activities, scripts, handouts) is English only.

Overlay layout::

    curriculum: reciprocal-lab        # the id of the curriculum it translates
    title: ...
    sessions:    {<session id>: {title: ..., prompts: {<prompt id>: ...}}}
    reflections: {<reflection id>: {title: ..., prompts: {<prompt id>: ...}}}
    follow_up:   {agenda: [..., one per agenda line], prompts: {<prompt id>: ...}}
"""
from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

DEFAULT_LANGUAGE = "en"
MARKER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")  # format placeholders a translation must keep


def overlay_path(curriculum_path: Path, language: str) -> Path:
    return Path(curriculum_path).parent / "translations" / f"{language}.yaml"


def languages(curriculum_path: Path) -> list[str]:
    """The languages with an overlay for this curriculum file (English, the source, not included)."""
    folder = Path(curriculum_path).parent / "translations"
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def language_of(locale: Any, available: list[str]) -> str:
    """The overlay language for a locale ("de_CH", "de-AT", a babel Locale -> "de"), else English."""
    text = str(locale or "").replace("-", "_")
    language = text.split("_")[0].lower()
    return language if language in available else DEFAULT_LANGUAGE


def _prompt_fields(prefix: str, prompts) -> dict[str, str]:
    return {f"{prefix}.prompts.{p['id']}": p["text"] for p in prompts or []}


def fields(data: dict) -> dict[str, str]:
    """Every translatable field of a (valid) curriculum mapping: flat key -> its English text."""
    out = {"title": data["title"]}
    for s in data.get("sessions") or []:
        out[f"sessions.{s['id']}.title"] = s["title"]
        out.update(_prompt_fields(f"sessions.{s['id']}", s.get("prompts")))
    for r in data.get("reflections") or []:
        out[f"reflections.{r['id']}.title"] = r["title"]
        out.update(_prompt_fields(f"reflections.{r['id']}", r.get("prompts")))
    f = data.get("follow_up") or {}
    out.update({f"follow_up.agenda.{i}": line for i, line in enumerate(f.get("agenda") or [])})
    out.update(_prompt_fields("follow_up", f.get("prompts")))
    return out


def flatten(overlay: Any, prefix: str = "") -> dict[str, Any]:
    """An overlay's nested mappings (and the agenda list) as flat keys like ``fields``."""
    if isinstance(overlay, dict):
        items = overlay.items()
    elif isinstance(overlay, list):
        items = enumerate(overlay)
    else:
        return {prefix: overlay}
    out = {}
    for key, value in items:
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def problems(data: dict, overlay: Any, source: str) -> list[str]:
    """What is wrong with an overlay for this curriculum: unknown ids or fields, empty text, changed
    placeholders, an overlay meant for another curriculum."""
    if not isinstance(overlay, dict):
        return [f"{source}: the translation file must be a mapping (curriculum, title, sessions, ...)"]
    found = []
    if overlay.get("curriculum") != data.get("id"):
        found.append(f"{source}: field curriculum: translates {overlay.get('curriculum')!r}, "
                     f"not this curriculum ({data.get('id')!r})")
    english = fields(data)
    for key, text in flatten({k: v for k, v in overlay.items() if k != "curriculum"}).items():
        if key not in english:
            found.append(f"{source}: {key}: no such id or field in the curriculum")
        elif not isinstance(text, str) or not text.strip():
            found.append(f"{source}: {key}: the translation must be non-empty text")
        elif sorted(MARKER.findall(text)) != sorted(MARKER.findall(english[key])):
            found.append(f"{source}: {key}: placeholders differ from the English text")
    return found


def _by_id(items, item_id):
    return next(item for item in items if item["id"] == item_id)


def _unshared(value):
    """A deep copy in which nothing is shared (YAML aliases such as ``*standard`` become separate copies,
    so translating one session's prompts never changes another's)."""
    if isinstance(value, dict):
        return {k: _unshared(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unshared(v) for v in value]
    return copy.copy(value)


def apply(data: dict, overlay: dict) -> dict:
    """A copy of the curriculum mapping with the overlay's text in place (check ``problems`` first)."""
    out = _unshared(data)
    for key, text in flatten({k: v for k, v in overlay.items() if k != "curriculum"}).items():
        parts = key.split(".")
        if parts == ["title"]:
            out["title"] = text
        elif parts[0] == "follow_up" and parts[1] == "agenda":
            out["follow_up"]["agenda"][int(parts[2])] = text
        elif parts[0] == "follow_up":
            _by_id(out["follow_up"]["prompts"], parts[2])["text"] = text
        else:  # sessions / reflections: <id>.title or <id>.prompts.<prompt id>
            item = _by_id(out[parts[0]], parts[1])
            if parts[2] == "title":
                item["title"] = text
            else:
                _by_id(item["prompts"], parts[3])["text"] = text
    return out
