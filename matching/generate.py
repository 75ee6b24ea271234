"""Seeded generator of realistic corporate pools, for tests, benchmarks and demo data.

Skills are skewed as in real organisations: senior people mostly offer leadership and
organisational know-how, junior people mostly offer digital skills, and each wants some of what
the other side has. Departments, locations with their time zones, managers (some outside the
pool), weekly availability and a few percent non-binary or undisclosed people are included.
"""
from __future__ import annotations

import random
from typing import Any

SENIOR_SKILLS = ["leadership", "negotiation", "stakeholder management", "strategic planning", "coaching",
                 "budgeting", "public speaking", "conflict resolution", "hiring", "navigating politics"]
JUNIOR_SKILLS = ["data analysis", "social media", "generative AI tools", "python", "dashboards",
                 "remote collaboration tools", "UX research", "automation", "video editing", "cloud basics"]
SHARED_SKILLS = ["presentation design", "project management", "writing", "time management", "networking"]
DEPARTMENTS = ["Sales", "Finance", "Engineering", "Marketing", "HR", "Operations", "Legal", "Product"]
LOCATIONS = [("Berlin", "Europe/Berlin"), ("Lisbon", "Europe/Lisbon"), ("New York", "America/New_York"),
             ("Lagos", "Africa/Lagos"), ("Bangalore", "Asia/Kolkata"), ("London", "Europe/London")]
SLOTS = [f"{day}-{hour:02d}" for day in ("mon", "tue", "wed", "thu", "fri") for hour in range(8, 18)]
FIRST = ["Ana", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kemi", "Liam", "Mona",
         "Noah", "Olu", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor", "Wen", "Xavi", "Yara", "Zoe"]


def corporate_pool(n: int, seed: int = 0, *, nonbinary_share: float = 0.03, undisclosed_share: float = 0.02,
                   policy: dict[str, Any] | None = None, request_share: float = 0.05) -> dict[str, Any]:
    """A POOL.json-shaped dict of ``n`` people, the same for the same seed."""
    rng = random.Random(seed)
    people = []
    for i in range(n):
        roll = rng.random()
        gender = ("non-binary" if roll < nonbinary_share else
                  "undisclosed" if roll < nonbinary_share + undisclosed_share else
                  "woman" if rng.random() < 0.5 else "man")
        if gender == "non-binary" and rng.random() < 0.3:
            gender = "self-described:genderfluid"
        level = rng.choices([1, 2, 3, 4, 5, 6], weights=[20, 25, 22, 16, 11, 6])[0]
        senior = level >= 4
        mine, theirs = (SENIOR_SKILLS, JUNIOR_SKILLS) if senior else (JUNIOR_SKILLS, SENIOR_SKILLS)
        offers = rng.sample(mine, rng.randint(2, 4)) + rng.sample(SHARED_SKILLS, rng.randint(0, 2))
        wants = rng.sample(theirs, rng.randint(1, 3)) + rng.sample(SHARED_SKILLS, rng.randint(0, 2))
        if rng.random() < 0.25:  # some people want things from their own side too
            wants.append(rng.choice(mine))
        wants = [w for w in dict.fromkeys(wants) if w not in offers]
        location, tz = rng.choices(LOCATIONS, weights=[30, 10, 20, 10, 20, 10])[0]
        start = rng.randrange(len(SLOTS))
        availability = sorted({SLOTS[(start + k * rng.randint(1, 7)) % len(SLOTS)] for k in range(rng.randint(6, 14))})
        people.append({
            "id": f"p{i:05d}", "name": f"{rng.choice(FIRST)} {chr(65 + i % 26)}.{i}", "gender": gender,
            "department": rng.choice(DEPARTMENTS), "location": location, "timezone": tz, "level": level,
            "manager_id": None, "offers": offers, "wants": wants, "availability": availability,
            "previous_partners": [],
        })
    for person in people:  # a manager: someone more senior in the same department, or outside the pool
        if rng.random() < 0.7:
            candidates = [p for p in rng.sample(people, min(30, n))
                          if p["department"] == person["department"] and p["level"] > person["level"]]
            person["manager_id"] = candidates[0]["id"] if candidates else f"ext-{rng.randrange(10**6)}"
    never, requests = [], []
    for _ in range(max(1, n // 100)):
        a, b = rng.sample(people, 2)
        never.append([a["id"], b["id"]])
    for _ in range(int(n * request_share)):
        a, b = rng.sample(people, 2)
        requests.append([a["id"], b["id"]])
        if rng.random() < 0.5:
            requests.append([b["id"], a["id"]])
    requests = [r for r in dict.fromkeys(map(tuple, requests))]
    return {"participants": people, "must_pair": [], "never_pair": never,
            "requests": [list(r) for r in requests], "declines": [], "policy": dict(policy or {})}
