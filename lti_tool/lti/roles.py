"""Map LTI 1.3 role URIs to the tool's three roles: learner, facilitator and L&D (``lnd``)."""
from __future__ import annotations

from collections.abc import Iterable

LEARNER, FACILITATOR, LND = "learner", "facilitator", "lnd"

_CONTEXT = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
_CONTEXT_SUB = "http://purl.imsglobal.org/vocab/lis/v2/membership/"
_INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
_SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"

FACILITATOR_CONTEXT_ROLES = {"Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator"}
LND_ROLES = {"Administrator", "SysAdmin"}


def _context_role(uri: str) -> str | None:
    """Return the context role name of a role URI (or of a short LTI 1.1-style name)."""
    if uri.startswith(_CONTEXT):
        return uri[len(_CONTEXT):]
    if uri.startswith(_CONTEXT_SUB):  # e.g. membership/Instructor#TeachingAssistant
        principal, _, sub = uri[len(_CONTEXT_SUB):].partition("#")
        return sub or principal
    if "/" not in uri and "#" not in uri:
        return uri
    return None


def map_roles(lti_roles: Iterable[str]) -> list[str]:
    """Tool roles for a launch, in landing-page priority order.

    Context Administrator is a course role (Open edX sends it with Instructor for a course's
    staff): it makes a facilitator. Only institution or system Administrator makes L&D.
    """
    roles: set[str] = set()
    for uri in lti_roles or ():
        if uri.startswith((_INSTITUTION, _SYSTEM)):
            if uri.rsplit("#", 1)[-1] in LND_ROLES:
                roles.add(LND)
            continue
        name = _context_role(uri)
        if name in FACILITATOR_CONTEXT_ROLES:
            roles.add(FACILITATOR)
        elif name in {"Learner", "Student"}:
            roles.add(LEARNER)
    return [r for r in (FACILITATOR, LND, LEARNER) if r in roles]
