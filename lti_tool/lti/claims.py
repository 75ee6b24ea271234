"""Names of the LTI 1.3 claims the tool reads."""
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
DEPLOYMENT_ID = LTI + "deployment_id"
ROLES = LTI + "roles"
CONTEXT = LTI + "context"
RESOURCE_LINK = LTI + "resource_link"
CUSTOM = LTI + "custom"
LAUNCH_PRESENTATION = LTI + "launch_presentation"
TARGET_LINK_URI = LTI + "target_link_uri"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"


# What the tool stores or keeps in the session from a launch, and the most it accepts of each.
# A claim outside these limits refuses the launch with a clear page before anything is stored,
# instead of failing in the database (sizes follow the columns in models.py).
_TEXT_LIMITS = (
    (("sub",), 255),
    (("name",), 255), (("given_name",), 255), (("family_name",), 255),
    (("email",), 320),
    ((CONTEXT, "id"), 255), ((CONTEXT, "title"), 500), ((CONTEXT, "label"), 255),
    ((RESOURCE_LINK, "id"), 1000), ((RESOURCE_LINK, "title"), 500),
    ((CUSTOM, "cohort"), 200),
    ((NRPS, "context_memberships_url"), 1000),
    ((AGS, "lineitems"), 1000), ((AGS, "lineitem"), 1000),
    ((LAUNCH_PRESENTATION, "return_url"), 2000), ((LAUNCH_PRESENTATION, "locale"), 35),
    ((DEPLOYMENT_ID,), 255),
)
_OBJECTS = (CONTEXT, RESOURCE_LINK, CUSTOM, NRPS, AGS, LAUNCH_PRESENTATION)
_STRING_LISTS = ((ROLES,), (AGS, "scope"))
MAX_LIST_ITEMS, MAX_LIST_ITEM = 100, 500


def _at(data: dict, path: tuple[str, ...]):
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _label(path: tuple[str, ...]) -> str:
    return " ".join(p.rsplit("/", 1)[-1] for p in path)


def problems(data: dict) -> list[str]:
    """What is wrong with a launch's claims, in words an LMS administrator can act on (empty: fine)."""
    found = []
    for claim in _OBJECTS:
        if data.get(claim) is not None and not isinstance(data[claim], dict):
            found.append(f"the {_label((claim,))} claim is not an object")
    for path, limit in _TEXT_LIMITS:
        value = _at(data, path)
        if value is None:
            continue
        if path == ("sub",) and isinstance(value, int):
            value = str(value)
        if not isinstance(value, str):
            found.append(f"{_label(path)} is not text")
        elif len(value) > limit:
            found.append(f"{_label(path)} is {len(value)} characters long (at most {limit})")
    for path in _STRING_LISTS:
        value = _at(data, path)
        if value is None:
            continue
        if not isinstance(value, list) or len(value) > MAX_LIST_ITEMS or \
                not all(isinstance(v, str) and len(v) <= MAX_LIST_ITEM for v in value):
            found.append(f"{_label(path)} is not a short list of text values")
    return found
