"""The skills taxonomy an organisation edits in ``config/skills.yaml`` (grouped list of skill names)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "config" / "skills.yaml"


class TaxonomyError(ValueError):
    """The skills file is missing or malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class SkillGroup:
    name: str
    skills: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    groups: tuple[SkillGroup, ...]

    @property
    def skills(self) -> list[str]:
        return [s for g in self.groups for s in g.skills]

    def __contains__(self, skill: str) -> bool:
        return skill in self.skills


def load_taxonomy(path: str | Path = DEFAULT_PATH) -> Taxonomy:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TaxonomyError(f"{path}: skills taxonomy file not found") from None
    except yaml.YAMLError as e:
        raise TaxonomyError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list) or not data["groups"]:
        raise TaxonomyError(f"{path}: expected a top-level 'groups:' list")
    groups, seen = [], set()
    for i, group in enumerate(data["groups"], start=1):
        if not isinstance(group, dict) or not isinstance(group.get("name"), str) or not group["name"].strip():
            raise TaxonomyError(f"{path}: group {i} needs a 'name'")
        skills = group.get("skills")
        if not isinstance(skills, list) or not skills:
            raise TaxonomyError(f"{path}: group '{group['name']}' needs a non-empty 'skills' list")
        clean = []
        for skill in skills:
            if not isinstance(skill, str) or not skill.strip():
                raise TaxonomyError(f"{path}: group '{group['name']}' has an empty or non-text skill")
            skill = skill.strip()
            if skill.casefold() in seen:
                raise TaxonomyError(f"{path}: skill '{skill}' appears more than once")
            seen.add(skill.casefold())
            clean.append(skill)
        groups.append(SkillGroup(group["name"].strip(), tuple(clean)))
    return Taxonomy(tuple(groups))


@lru_cache(maxsize=1)
def taxonomy() -> Taxonomy:
    return load_taxonomy()
