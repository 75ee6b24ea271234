"""Gains, team values and hard-rule feasibility, computed a block of rows at a time.

gain(a <- b): how much of what ``a`` wants to learn ``b`` offers. ``a``'s wants are rank-weighted
(1, 1/2, 1/3, ...) and normalised to sum to 1; ``b``'s offers count from 1.0 (first offer) down to
0.5 (last). So a gain of 1.0 means the partner offers everything ``a`` wants, at full strength.

Team value (``team_value: harmonic``, the default) rewards balance: the skills part is the harmonic
mean 2*ga*gb / (ga + gb) of both gains, which is 0 when either side gains nothing and sits close
to the smaller gain, so a lopsided pair scores less than a balanced pair with the same sum.
``team_value: sum`` (plain ga + gb, halved) exists to show the difference in the benchmark.
Soft criteria then add, each scaled by its policy weight / 10:

====================  ==================================================================
skills                 1.0 x the harmonic mean (or half the sum) of both gains
gender                 0.3 when gender identities differ (cross_gender "prefer"; neither undisclosed)
department             0.2 when departments differ
location               0.1 when locations differ
timezone               0.1 x (1 - |UTC offset difference| / 12)
requests               0.4 when both asked for each other, 0.2 when one did
availability           0.1 x min(shared slots, 4) / 4
====================  ==================================================================
"""
from __future__ import annotations

import numpy as np

from ._pool import GENDERS, Pool

UNDISCLOSED = GENDERS.index("undisclosed")
BLOCK = 512


def excluded_from_auto(pool: Pool) -> np.ndarray:
    """People the matcher must leave to the facilitator ("prefer not to say" + policy manual)."""
    if pool.policy["undisclosed"] == "manual":
        return pool.gender == UNDISCLOSED
    return np.zeros(pool.n, dtype=bool)


def _pair_sets(pool: Pool):
    forbidden = set(pool.never) | set(pool.previous)
    forbidden |= {(min(a, b), max(a, b)) for a, b in pool.declines}
    requests = {}
    for a, b in pool.requests:
        key = (min(a, b), max(a, b))
        requests[key] = requests.get(key, 0) + 1
    return forbidden, requests


class Scorer:
    """Computes blocks of the n x n value matrix without ever holding all of it."""

    def __init__(self, pool: Pool):
        self.pool = pool
        self.forbidden, self.requests = _pair_sets(pool)
        self.excluded = excluded_from_auto(pool)
        w = pool.weights
        self.w = {k: float(v) / 10.0 for k, v in w.items()}
        self.slots = pool.slots.astype(np.float32)  # BLAS matmul counts shared slots fast

    def gains(self, rows: np.ndarray, cols: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(gain of row from col, gain of col from row) for a block."""
        p = self.pool
        cols = np.arange(p.n) if cols is None else cols
        g_rc = p.wants[rows] @ p.offers[cols].T
        g_cr = (p.wants[cols] @ p.offers[rows].T).T
        return g_rc, g_cr

    def block(self, rows: np.ndarray, cols: np.ndarray | None = None, *, masked: bool = True):
        """Values, feasibility and both gains for rows x cols (default: every column).

        Infeasible pairs are worth 0 unless ``masked`` is False (the value a pinned or kept team
        has even though the matcher would not have chosen it)."""
        p, pol = self.pool, self.pool.policy
        cols = np.arange(p.n) if cols is None else cols
        g_rc, g_cr = self.gains(rows, cols)
        feasible = rows[:, None] != cols[None, :]
        feasible &= ~self.excluded[rows][:, None] & ~self.excluded[cols][None, :]
        # Nobody with their manager or their direct report.
        feasible &= p.manager[rows][:, None] != cols[None, :]
        feasible &= p.manager[cols][None, :] != rows[:, None]
        g_r, g_c = p.gender[rows][:, None], p.gender[cols][None, :]
        either_undisclosed = (g_r == UNDISCLOSED) | (g_c == UNDISCLOSED)
        differ = (g_r != g_c) & ~either_undisclosed
        if pol["cross_gender"] == "require":
            feasible &= differ | either_undisclosed  # undisclosed: compatible with anyone (policy "any")
        dept_differ = p.department[rows][:, None] != p.department[cols][None, :]
        if pol["department"] == "different":
            feasible &= dept_differ
        tz_gap = np.abs(p.tz_offset[rows][:, None] - p.tz_offset[cols][None, :])
        if pol["max_timezone_hours"] is not None:
            feasible &= tz_gap <= pol["max_timezone_hours"] + 1e-9
        shared = self.slots[rows] @ self.slots[cols].T
        if pol["min_shared_slots"]:
            feasible &= shared >= pol["min_shared_slots"]
        if pol["max_level_gap"] is not None:
            feasible &= np.abs(p.level[rows][:, None] - p.level[cols][None, :]) <= pol["max_level_gap"]
        if pol["require_mutual_gain"]:
            feasible &= (g_rc > 0) & (g_cr > 0)
        if self.forbidden:
            self._apply_pairs(feasible, rows, cols, self.forbidden, False)

        if pol.get("team_value", "harmonic") == "sum":
            skills = (g_rc + g_cr) / 2
        else:
            total = g_rc + g_cr
            skills = np.divide(2 * g_rc * g_cr, total, out=np.zeros_like(total), where=total > 0)
        w = self.w
        value = w.get("skills", 1.0) * skills
        if pol["cross_gender"] == "prefer":
            value += w.get("gender", 0) * 0.3 * differ
        value += w.get("department", 0) * 0.2 * dept_differ
        value += w.get("location", 0) * 0.1 * (p.location[rows][:, None] != p.location[cols][None, :])
        value += w.get("timezone", 0) * 0.1 * (1 - np.minimum(tz_gap, 12) / 12)
        value += w.get("availability", 0) * 0.1 * np.minimum(shared, 4) / 4
        if self.requests and w.get("requests", 0):
            bonus = np.zeros_like(value)
            self._apply_requests(bonus, rows, cols)
            value += w["requests"] * bonus
        if masked:
            value = np.where(feasible, value, 0.0)
        return value, feasible, g_rc, g_cr

    def _lookup(self, rows, cols):
        row_pos = {int(r): i for i, r in enumerate(rows)}
        col_pos = {int(c): j for j, c in enumerate(cols)}
        return row_pos, col_pos

    def _apply_pairs(self, mask, rows, cols, pairs, value):
        row_pos, col_pos = self._lookup(rows, cols)
        for a, b in pairs:
            for x, y in ((a, b), (b, a)):
                if x in row_pos and y in col_pos:
                    mask[row_pos[x], col_pos[y]] = value

    def _apply_requests(self, bonus, rows, cols):
        row_pos, col_pos = self._lookup(rows, cols)
        for (a, b), count in self.requests.items():
            amount = 0.4 if count >= 2 else 0.2
            for x, y in ((a, b), (b, a)):
                if x in row_pos and y in col_pos:
                    bonus[row_pos[x], col_pos[y]] = amount

    def pair(self, a: int, b: int, *, masked: bool = True):
        """Value, feasibility, gain of a from b, gain of b from a for one pair."""
        value, feasible, g_ab, g_ba = self.block(np.array([a]), np.array([b]), masked=masked)
        return float(value[0, 0]), bool(feasible[0, 0]), float(g_ab[0, 0]), float(g_ba[0, 0])

    def blocks(self, rows: np.ndarray):
        for start in range(0, len(rows), BLOCK):
            chunk = rows[start:start + BLOCK]
            yield chunk, self.block(chunk)
