"""Exact solvers for the two objectives.

* Two-group graphs (cross-gender *required* and everyone a woman or a man): a rectangular
  assignment problem, solved exactly on the full value matrix by
  ``scipy.optimize.linear_sum_assignment``. Non-edges weigh 0 and every edge weighs more, so the
  best full assignment minus its zero-weight pairs is a maximum-weight matching.
* Any other graph (non-binary, self-described or undisclosed people, or cross-gender off/prefer):
  general maximum-weight matching. Tiny pools (up to ``FULL_GRAPH_LIMIT``) go whole to Edmonds'
  blossom algorithm (``rustworkx``). Larger pools are solved by *pricing and fixing*, the method of
  Applegate and Cook for large matching problems:

  1. start from each person's ``CANDIDATES`` best partners;
  2. solve the fractional matching LP (degree rows only) on those edges with HiGHS (``highspy``,
     which keeps the basis, so re-solving after adding edges is cheap);
  3. price every edge of the full graph against the LP duals ``y``: an edge with reduced cost
     ``w_uv - y_u - y_v > 0`` enters the LP; repeat until none is left. Then ``y`` is dual feasible
     for the *whole* graph and ``sum(y)`` bounds every matching from above (``stats.upper_bound``);
  4. the incumbent: blossom on the LP's nearly tight edges;
  5. *reduced-cost fixing*: a matching that uses an edge with reduced cost below
     ``-(upper_bound - incumbent)`` is worth less than the incumbent, so blossom on the remaining
     edges returns the optimum of the full graph. ``stats.certified`` says the proof went through;
     ``stats.gap`` is then 0 and ``stats.lp_gap`` shows how tight the LP bound was.

  The value matrix is computed once and kept as float64 when it fits ``MATRIX_BYTES`` (10,000
  people: 800 MB), so each pricing round is a few array operations; bigger pools recompute it a
  block at a time in every round (slower, same answer, memory stays linear in the block size).

The egalitarian objective (most teams, then the best worst team, then the total) searches every
edge up to ``EGALITARIAN_FULL_LIMIT`` people; above that it is proven on the whole graph by the
same pricing, with fractional matchings from bipartite double covers for the team count and the
worst team (see ``_egalitarian_priced`` and ``matching._fractional``).

Weights go to the blossom algorithm as integers (value x ``SCALE``); the rounding is far below the
reported precision.
"""
from __future__ import annotations

import time

import numpy as np
import rustworkx as rx
from scipy.optimize import linear_sum_assignment

from ._fractional import fractional_matching
from ._pool import Pool
from ._scores import BLOCK, Scorer

FULL_GRAPH_LIMIT = 60
CANDIDATES = 12
PER_ROW = 10  # edges a pricing round may add per person
MAX_ROUNDS = 60
MATRIX_BYTES = 1_600_000_000
NEAR_TIGHT = 1e-3  # reduced cost within which LP edges feed the incumbent
FIX_LIMIT = 3_000_000
EGALITARIAN_FULL_LIMIT = 400  # up to here: every edge, exact by construction; above: proven by pricing
VIOLATION_TOL = 1e-9
SCALE = 10**9
TOL = 1e-9


def is_two_group(pool: Pool, active: np.ndarray) -> bool:
    genders = set(np.unique(pool.gender[active]).tolist())
    return pool.policy["cross_gender"] == "require" and genders <= {0, 1}


def solve_two_group(scorer: Scorer, active: np.ndarray):
    """Exact maximum-weight matching between women and men (dense assignment)."""
    pool = scorer.pool
    women = active[pool.gender[active] == 0]
    men = active[pool.gender[active] == 1]
    rows, cols = (women, men) if len(women) <= len(men) else (men, women)
    if len(rows) == 0 or len(cols) == 0:
        return [], {"solver": "linear_sum_assignment", "upper_bound": 0.0, "gap": 0.0, "edges": 0}
    values = np.zeros((len(rows), len(cols)))
    edges = 0
    for start in range(0, len(rows), 512):
        chunk = rows[start:start + 512]
        value, feasible, _, _ = scorer.block(chunk, cols)
        values[start:start + len(chunk)] = np.where(feasible, value + TOL, 0.0)
        edges += int(feasible.sum())
    r, c = linear_sum_assignment(values, maximize=True)
    pairs = [(int(rows[i]), int(cols[j])) for i, j in zip(r, c) if values[i, j] > 0]
    return pairs, {"solver": "linear_sum_assignment", "edges": edges, "gap": 0.0, "certified": True}


def blossom(edge_list, weights, *, max_cardinality: bool = False, unit: bool = False) -> list[tuple[int, int]]:
    """Maximum-weight matching (or maximum cardinality) of an edge list, exact (Edmonds)."""
    if not edge_list:
        return []
    graph = rx.PyGraph()
    nodes = sorted({v for e in edge_list for v in e})
    position = {v: i for i, v in enumerate(nodes)}
    graph.add_nodes_from(nodes)
    ints = [1] * len(edge_list) if unit else [max(1, int(round(w * SCALE))) for w in weights]
    graph.add_edges_from([(position[a], position[b], w) for (a, b), w in zip(edge_list, ints)])
    matched = rx.max_weight_matching(graph, max_cardinality=max_cardinality, weight_fn=lambda w: w)
    return sorted((min(nodes[i], nodes[j]), max(nodes[i], nodes[j])) for i, j in matched)


class _Graph:
    """The feasible graph on the active people, by rows of reduced values; -inf marks a non-edge.

    Positions 0..m-1 index ``active``. Holds the value matrix when it fits in ``MATRIX_BYTES``.
    """

    def __init__(self, scorer: Scorer, active: np.ndarray):
        self.scorer, self.active, self.m = scorer, active, len(active)
        self.matrix = None
        if self.m * self.m * 8 <= MATRIX_BYTES:
            self.matrix = np.empty((self.m, self.m))
            for start, block in self._computed():
                self.matrix[start:start + len(block)] = block

    def _computed(self):
        active = self.active
        for start in range(0, self.m, BLOCK):
            rows = active[start:start + BLOCK]
            value, feasible, _, _ = self.scorer.block(rows, active)
            block = np.where(feasible, value, -np.inf)
            block[np.arange(len(rows)), np.arange(start, start + len(rows))] = -np.inf
            yield start, block

    def rows(self):
        """(first position, block of values) for every block of rows."""
        if self.matrix is None:
            yield from self._computed()
        else:
            for start in range(0, self.m, BLOCK):
                yield start, self.matrix[start:start + BLOCK]


class _Weighed:
    """The same graph seen through other edge weights (``weigh`` maps a block; -inf drops an edge)."""

    def __init__(self, graph: _Graph, weigh):
        self.graph, self.weigh, self.m, self.matrix = graph, weigh, graph.m, graph.matrix

    def rows(self):
        for start, block in self.graph.rows():
            yield start, self.weigh(block)


def _values_of(graph: _Graph, codes: np.ndarray) -> np.ndarray:
    """The team values of edges given as codes (from the kept matrix, else in one pass)."""
    a, b = codes // graph.m, codes % graph.m
    if graph.matrix is not None:
        return graph.matrix[a, b]
    out = np.empty(len(codes))
    for start, block in graph.rows():
        mine = (a >= start) & (a < start + len(block))
        out[mine] = block[a[mine] - start, b[mine]]
    return out


def _edge_codes(a: np.ndarray, b: np.ndarray, w: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Undirected edges as sorted codes min*m+max (duplicates dropped) and their weights."""
    lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    codes, first = np.unique(lo * m + hi, return_index=True)
    return codes, np.asarray(w, dtype=np.float64)[first]


def _top_edges(graph: _Graph, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each person's ``k`` best feasible partners (all of them when k covers the row)."""
    parts_a, parts_b, parts_w = [], [], []
    for start, block in graph.rows():
        kk = min(k, graph.m - 1)
        if kk <= 0:
            continue
        top = np.argpartition(-block, kk - 1, axis=1)[:, :kk]
        r = np.repeat(np.arange(len(block)), top.shape[1])
        c = top.ravel()
        w = block[r, c]
        ok = np.isfinite(w)
        parts_a.append(r[ok] + start), parts_b.append(c[ok]), parts_w.append(w[ok])
    if not parts_a:
        return np.zeros(0, np.int64), np.zeros(0)
    return _edge_codes(np.concatenate(parts_a), np.concatenate(parts_b), np.concatenate(parts_w), graph.m)


class _MatchingLP:
    """max sum w_e x_e  s.t.  sum of x_e at each person <= 1, x >= 0; columns added as priced.

    With ``cover`` (a mask of people) and ``spare``: every covered person is in exactly one team,
    except ``spare`` of them who pair with one shared stand-in at no value, so every solution has
    exactly (covered - spare) / 2 teams. Fixing the team count this way keeps the LP sparse (a
    team-count row would touch every column and slows the simplex down several times over).
    """

    def __init__(self, m: int, cover: np.ndarray | None = None, spare: int = 0):
        import highspy
        from highspy.highs import _Highs  # the core class: highspy.Highs() prints a banner on stdout

        self.inf, self.optimal = highspy.kHighsInf, highspy.HighsModelStatus.kOptimal
        self.m, self.cover, self.spare = m, cover, spare
        self.highs = _Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("threads", 1)
        self.highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        none = np.zeros(0, np.int32)
        lower = np.full(m, -self.inf) if cover is None else np.where(cover, 1.0, -self.inf)
        self.highs.addRows(m, lower, np.ones(m), 0, none, none, np.zeros(0))
        if cover is not None:
            self.highs.addRows(1, np.array([float(spare)]), np.array([float(spare)]), 0, none, none, np.zeros(0))
            people = np.flatnonzero(cover).astype(np.int32)
            k = len(people)
            index = np.empty(2 * k, np.int32)
            index[0::2], index[1::2] = people, m
            self.highs.addCols(k, np.zeros(k), np.zeros(k), np.full(k, self.inf), 2 * k,
                               np.arange(0, 2 * k, 2, dtype=np.int32), index, np.ones(2 * k))

    def add(self, codes: np.ndarray, weights: np.ndarray) -> None:
        k = len(codes)
        if k == 0:
            return
        index = np.empty(2 * k, np.int32)
        index[0::2], index[1::2] = codes // self.m, codes % self.m
        self.highs.addCols(k, weights.astype(np.float64), np.zeros(k), np.full(k, self.inf), 2 * k,
                           np.arange(0, 2 * k, 2, dtype=np.int32), index, np.ones(2 * k))

    def duals(self) -> np.ndarray:
        self.highs.run()
        self.row_dual = np.asarray(self.highs.getSolution().row_dual, dtype=np.float64)
        y = self.row_dual[:self.m]
        return np.maximum(y, 0.0) if self.cover is None else np.where(self.cover, y, np.maximum(y, 0.0))

    def upper_bound(self, y: np.ndarray, worst: float) -> float:
        """A bound on every matching of the graph (with a cover: of the fixed team count), given
        that no edge has reduced cost above ``worst`` under ``y``: raising each y by worst/2 makes
        the duals feasible (the stand-in's dual drops by as much, and rises by its own violation)."""
        if self.highs.getModelStatus() != self.optimal:
            return np.inf  # no optimal LP, no bound: nothing gets certified
        if self.cover is None:
            return float(y.sum()) + self.m * worst / 2
        stand_in = float(self.row_dual[self.m])
        violation = max(0.0, float(np.max(-y[self.cover] - stand_in, initial=0.0)))
        return float(y.sum()) + int(self.cover.sum()) * worst / 2 + self.spare * (stand_in - worst / 2 + violation)


def _price(graph: _Graph, y: np.ndarray, per_row: int, keep_above: float | None):
    """One pass over the full graph under duals ``y``.

    Returns (violating edges to add: up to ``per_row`` per person, the largest violation, edges
    whose reduced cost is at least ``-keep_above`` when that is given).
    """
    add_a, add_b, add_w, keep_a, keep_b, keep_w = [], [], [], [], [], []
    worst = 0.0
    for start, block in graph.rows():
        reduced = block - y[start:start + len(block), None] - y[None, :]
        best = reduced.max(axis=1)
        worst = max(worst, float(best.max(initial=0.0)))
        rows = np.flatnonzero(best > VIOLATION_TOL)
        if per_row and len(rows):
            kk = min(per_row, graph.m - 1)
            sub = reduced[rows]
            top = np.argpartition(-sub, kk - 1, axis=1)[:, :kk]
            r = np.repeat(rows, kk)
            c = top.ravel()
            ok = reduced[r, c] > VIOLATION_TOL
            add_a.append(r[ok] + start), add_b.append(c[ok]), add_w.append(block[r[ok], c[ok]])
        if keep_above is not None:
            r, c = np.nonzero(reduced >= -keep_above)
            keep_a.append(r + start), keep_b.append(c), keep_w.append(block[r, c])
    def join(parts):
        return np.concatenate(parts) if parts else np.zeros(0)

    added = _edge_codes(join(add_a), join(add_b), join(add_w), graph.m)
    kept = _edge_codes(join(keep_a), join(keep_b), join(keep_w), graph.m) if keep_above is not None else None
    return added, worst, kept


def _column_generation(graph, codes: np.ndarray, weights: np.ndarray, lap=None, cover=None, spare: int = 0):
    """Solve the matching LP (see ``_MatchingLP``) over the whole graph by pricing edges in; returns
    (edges, weights, duals, upper bound, largest remaining violation, rounds). With a cover, the
    starting edges must hold a fractional matching of the team count."""
    lap = lap or (lambda name, since: time.perf_counter())
    t = time.perf_counter()
    lp = _MatchingLP(graph.m, cover, spare)
    lp.add(codes, weights)
    rounds = 0
    while True:
        y = lp.duals()
        t = lap("lp", t)
        (new_codes, new_weights), worst, _ = _price(graph, y, PER_ROW, None)
        t = lap("pricing", t)
        fresh = ~np.isin(new_codes, codes)
        rounds += 1
        if worst <= VIOLATION_TOL or not fresh.any() or rounds >= MAX_ROUNDS:
            worst = max(worst, 0.0)
            return codes, weights, y, lp.upper_bound(y, worst), worst, rounds
        lp.add(new_codes[fresh], new_weights[fresh])
        codes = np.concatenate([codes, new_codes[fresh]])
        weights = np.concatenate([weights, new_weights[fresh]])


def _blossom_codes(codes: np.ndarray, weights: np.ndarray, m: int, *,
                   max_cardinality: bool = False) -> tuple[list[tuple[int, int]], float]:
    """Blossom on edges given as codes; returns the pairs (positions) and their total weight."""
    pairs = blossom(list(zip((codes // m).tolist(), (codes % m).tolist())), weights.tolist(),
                    max_cardinality=max_cardinality)
    lookup = dict(zip(codes.tolist(), weights.tolist()))
    return pairs, float(sum(lookup[a * m + b] for a, b in pairs))


def _priced_matching(graph, codes: np.ndarray, weights: np.ndarray, lap, cover=None, teams: int | None = None):
    """Maximum-weight matching of the whole ``graph`` starting from the edges ``codes``, proven by
    pricing and fixing. With ``teams``: of exactly that many teams, where ``cover`` marks everyone
    who has an edge. Returns (pairs, total, stats)."""
    m = graph.m
    spare = 0 if teams is None else int(cover.sum()) - 2 * teams
    codes, weights, y, upper, worst, rounds = _column_generation(graph, codes, weights, lap, cover, spare)
    t = time.perf_counter()
    reduced = weights - y[codes // m] - y[codes % m]
    near = reduced >= -NEAR_TIGHT
    counted = teams is not None  # with a team count: most teams first (it is the most there can be)
    pairs, incumbent = _blossom_codes(codes[near], weights[near], m, max_cardinality=counted)
    if counted and len(pairs) < teams:  # the nearly tight edges hold fewer teams: use every priced edge
        near[:] = True
        pairs, incumbent = _blossom_codes(codes, weights, m, max_cardinality=True)
    t = lap("incumbent", t)
    bounded = bool(np.isfinite(upper))
    kept = (np.zeros(0, np.int64), np.zeros(0))
    if bounded:
        # Fixing under the raised (feasible) duals, whose bound is the upper bound: the rule is exact.
        _, _, kept = _price(graph, y + worst / 2, 0, max(upper - incumbent, 0.0) + 1e-9)
        t = lap("fixing", t)
    certified = bounded and len(kept[0]) <= FIX_LIMIT and (not counted or len(pairs) == teams)
    total = incumbent
    if certified and not np.isin(kept[0], codes[near]).all():
        # the incumbent was not the best over a superset of the kept edges: search those
        found, value = _blossom_codes(kept[0], kept[1], m, max_cardinality=counted)
        lap("blossom", t)
        if len(found) >= len(pairs) and value > total:  # else rounding in the integer weights
            pairs, total = found, value
    lp_gap = None if not bounded else max(0.0, (upper - total) / upper) if upper > 0 else 0.0
    return pairs, total, {"edges": int(len(codes)), "pricing_rounds": rounds,
                          "upper_bound": round(upper, 9) if bounded else None,
                          "lp_gap": lp_gap, "edges_kept_by_fixing": int(len(kept[0])), "certified": certified}


def _stopwatch():
    """(timings, lap): ``lap(name, since)`` adds the time since ``since`` to ``timings[name]``."""
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(timings.get(name, 0.0) + now - since, 3)
        return now

    return timings, lap


def solve_general(scorer: Scorer, active: np.ndarray):
    """Maximum-weight matching of the full feasible graph, proven optimal by pricing and fixing."""
    timings, lap = _stopwatch()
    t = time.perf_counter()
    graph = _Graph(scorer, active)
    m = graph.m
    if m <= FULL_GRAPH_LIMIT:
        codes, weights = _top_edges(graph, m)
        t = lap("graph", t)
        pairs, _ = _blossom_codes(codes, weights, m)
        lap("blossom", t)
        return ([(int(active[a]), int(active[b])) for a, b in pairs],
                {"solver": "blossom", "edges": len(codes), "gap": 0.0, "certified": True, "timings": timings})
    codes, weights = _top_edges(graph, CANDIDATES)
    lap("candidates", t)
    if len(codes) == 0:
        return [], {"solver": "blossom+lp", "edges": 0, "gap": 0.0, "certified": True, "timings": timings}
    pairs, _, proof = _priced_matching(graph, codes, weights, lap)
    return [(int(active[a]), int(active[b])) for a, b in pairs], {
        "solver": "blossom+lp", **proof, "gap": 0.0 if proof["certified"] else proof["lp_gap"],
        "value_matrix_in_memory": graph.matrix is not None, "timings": timings}


def _max_teams(codes: np.ndarray, m: int) -> int:
    if len(codes) == 0:
        return 0
    return len(blossom(list(zip((codes // m).tolist(), (codes % m).tolist())), None, max_cardinality=True, unit=True))


def _bottleneck(codes: np.ndarray, values: np.ndarray, m: int, size: int) -> float:
    """The highest edge value t such that edges worth at least t still form ``size`` teams."""
    levels = np.unique(values)
    lo, hi = 0, len(levels) - 1  # levels[lo] admits `size` teams (the caller knows)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        keep = values >= levels[mid]
        if keep.sum() >= size and _max_teams(codes[keep], m) >= size:
            lo = mid
        else:
            hi = mid - 1
    return float(levels[lo])


def _egalitarian_on_edges(codes: np.ndarray, values: np.ndarray, m: int):
    """Egalitarian on a given edge set, exact for that set: (pairs as positions, teams, worst team)."""
    size = _max_teams(codes, m)
    level = _bottleneck(codes, values, m, size)
    keep = values >= level
    pairs, _ = _blossom_codes(codes[keep], values[keep], m, max_cardinality=True)
    return pairs, size, level


def _fractional_bottleneck(codes: np.ndarray, values: np.ndarray, m: int, doubled: int, at_least: float) -> float:
    """The highest value t such that the edges worth at least t have a fractional matching of
    ``doubled / 2`` (which all of ``codes`` reach), knowing that t >= ``at_least``."""
    order = np.argsort(-values, kind="stable")
    codes, values = codes[order], values[order]
    lo, hi = 1, max(1, int(np.count_nonzero(values >= at_least)))
    while lo < hi:  # the shortest prefix of the edges, best first, that reaches the target
        mid = (lo + hi) // 2
        if fractional_matching(codes[:mid], m)[0] >= doubled:
            hi = mid
        else:
            lo = mid + 1
    return float(values[lo - 1])


def _uncovered(graph: _Graph, codes: np.ndarray, level: float) -> tuple[int, np.ndarray]:
    """Fractional matching of ``codes`` and up to ``PER_ROW`` best edges per person worth more than
    ``level`` that its vertex cover leaves uncovered (none: the number holds for the whole graph
    above ``level``). Cover values are 0, 1/2 or 1, so only people below 1 need looking at."""
    m = graph.m
    doubled, y = fractional_matching(codes, m)
    open_cols = np.flatnonzero(y < 1)
    found_a, found_b, found_w = [], [], []
    for start, block in graph.rows():
        rows = np.flatnonzero(y[start:start + len(block)] < 1)
        if len(rows) == 0 or len(open_cols) == 0:
            continue
        sub = block[np.ix_(rows, open_cols)]
        r, c = np.nonzero((sub > level) & (y[start + rows, None] + y[None, open_cols] < 1))
        found_a.append(start + rows[r]), found_b.append(open_cols[c]), found_w.append(sub[r, c])
    if not found_a:
        return doubled, np.zeros(0, np.int64)
    a, b, w = np.concatenate(found_a), np.concatenate(found_b), np.concatenate(found_w)
    order = np.lexsort((-w, a))  # by person, best first
    a, b = a[order], b[order]
    rank = np.arange(len(a)) - np.searchsorted(a, a, side="left")
    keep = rank < PER_ROW
    return doubled, _edge_codes(a[keep], b[keep], w[order][keep], m)[0]


def _egalitarian_priced(graph: _Graph):
    """Egalitarian on a large pool, proven on the whole graph (see ``matching._fractional``).

    1. K, the most teams: the fractional matching number of the whole graph, found on a growing
       edge set whose fractional vertex cover is priced against every edge until it covers them
       all; K = floor of it is an upper bound, and step 3 meets it.
    2. t, the best worst team: the highest value at which the known edges still have a fractional
       matching of K; the cover of the known edges *above* t is priced against every edge above t.
       When it covers them all, no K teams exist above t (fractionally, hence at all); otherwise
       the uncovered edges join and t is searched again (it can only rise).
    3. the heaviest K teams from edges worth at least t: pricing and fixing on that graph with the
       team count held at K (``_MatchingLP`` with a cover and a stand-in for the people left over).
       K teams found there prove K and t.
    If the fractional bound is not met by whole teams (odd groups that can only pair among
    themselves), the search falls back to the known edges and claims a proof only if those are
    every edge of the graph. Returns (pairs as positions, stats).
    """
    m = graph.m
    timings, lap = _stopwatch()
    t = time.perf_counter()
    codes, _ = _top_edges(graph, CANDIDATES)
    if len(codes) == 0:
        return [], {"edges": 0, "certified": True, "gap": 0.0}
    proven_size = proven_level = False
    for _ in range(MAX_ROUNDS):
        doubled, new = _uncovered(graph, codes, -np.inf)
        if len(new) == 0:
            proven_size = True
            break
        codes = np.union1d(codes, new)
    size = doubled // 2
    values = _values_of(graph, codes)
    t = lap("teams", t)
    level = -np.inf
    for _ in range(MAX_ROUNDS):
        level = _fractional_bottleneck(codes, values, m, 2 * size, level)
        _, new = _uncovered(graph, codes[values > level], level)
        if len(new) == 0:
            proven_level = True
            break
        codes, values = np.concatenate([codes, new]), np.concatenate([values, _values_of(graph, new)])
    lap("worst_team", t)
    keep = values >= level
    heavy = _Weighed(graph, lambda b: np.where(b >= level, b, -np.inf))
    # Everyone's best partner is among their candidates, so the known edges give each person's best
    # value without another pass over the graph; the LP's cover is whoever has an edge worth >= t.
    best = np.full(m, -np.inf)
    np.maximum.at(best, codes // m, values)
    np.maximum.at(best, codes % m, values)
    cover = best >= level
    pairs, _, proof = _priced_matching(heavy, codes[keep], values[keep], lap, cover, size)
    proven_total, bound = proof["certified"], {"upper_bound": proof["upper_bound"], "lp_gap": proof["lp_gap"]}
    if len(pairs) < size:  # whole teams fall short of the fractional bound: search the known edges
        t = time.perf_counter()
        everything = sum(int(np.isfinite(block).sum()) for _, block in graph.rows()) // 2
        pairs, size, level = _egalitarian_on_edges(codes, values, m)
        proven_size = proven_level = proven_total = len(codes) == everything
        bound = {}  # the LP bound was for more teams than whole teams can make
        lap("fallback", t)
    certified = proven_size and proven_level and proven_total
    return pairs, {"edges": int(len(codes)), "teams_possible": int(size), "worst_team_value": float(level),
                   "certified": bool(certified), "gap": 0.0 if certified else None,
                   "proofs": {"teams": bool(proven_size), "worst_team": bool(proven_level),
                              "total": bool(proven_total)}, **bound, "timings": timings}


def solve_egalitarian(scorer: Scorer, active: np.ndarray):
    """Maximise the worst team's value among matchings of maximum size, then the total.

    Egalitarian never leaves more people unmatched than necessary: it first finds the largest
    number of teams K the feasible graph allows, then the highest threshold t such that K teams
    can still be formed from edges worth at least t, then the heaviest matching of K teams from
    those edges. Small pools search every edge directly; larger ones are proven by pricing.
    """
    graph = _Graph(scorer, active)
    m = len(active)
    if m > EGALITARIAN_FULL_LIMIT:
        pairs, stats = _egalitarian_priced(graph)
        return ([(int(active[a]), int(active[b])) for a, b in pairs],
                {"solver": "blossom-egalitarian+lp", **stats})
    codes, values = _top_edges(graph, m)
    if len(codes) == 0:
        return [], {"solver": "blossom-egalitarian", "edges": 0, "gap": 0.0, "certified": True}
    pairs, size, level = _egalitarian_on_edges(codes, values, m)
    return ([(int(active[a]), int(active[b])) for a, b in pairs],
            {"solver": "blossom-egalitarian", "edges": int(len(codes)), "teams_possible": size,
             "worst_team_value": level, "gap": 0.0, "certified": True})
