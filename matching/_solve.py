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

The egalitarian objective (most teams, then the best worst team, then the total) is exact on every
edge up to ``EGALITARIAN_FULL_LIMIT`` people and proven with the same LP machinery up to
``EGALITARIAN_PRICED_LIMIT`` (see ``_egalitarian_priced``); above that it searches each person's best
partners and reports ``certified: false`` with ``gap: None``.

Weights go to the blossom algorithm as integers (value x ``SCALE``); the rounding is far below the
reported precision.
"""
from __future__ import annotations

import time

import numpy as np
import rustworkx as rx
from scipy.optimize import linear_sum_assignment

from ._pool import Pool
from ._scores import BLOCK, Scorer

FULL_GRAPH_LIMIT = 60
CANDIDATES = 12
PER_ROW = 10  # edges a pricing round may add per person
MAX_ROUNDS = 60
MATRIX_BYTES = 1_600_000_000
NEAR_TIGHT = 1e-3  # reduced cost within which LP edges feed the incumbent
FIX_LIMIT = 3_000_000
EGALITARIAN_FULL_LIMIT = 600  # up to here: every edge, exact by construction
EGALITARIAN_PRICED_LIMIT = 2000  # up to here: LP-proven (about 35 s at 2,000); above: best partners only  # more kept edges than this: report the gap instead of a proof
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
    """max sum w_e x_e  s.t.  sum of x_e at each person <= 1, x >= 0; columns added as priced."""

    def __init__(self, m: int):
        import highspy
        from highspy.highs import _Highs  # the core class: highspy.Highs() prints a banner on stdout

        self.inf = highspy.kHighsInf
        self.m = m
        self.highs = _Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("threads", 1)
        self.highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        none = np.zeros(0, np.int32)
        self.highs.addRows(m, np.full(m, -self.inf), np.ones(m), 0, none, none, np.zeros(0))

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
        return np.maximum(np.asarray(self.highs.getSolution().row_dual, dtype=np.float64), 0.0)


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
    join = (lambda parts: np.concatenate(parts) if parts else np.zeros(0))
    added = _edge_codes(join(add_a), join(add_b), join(add_w), graph.m)
    kept = _edge_codes(join(keep_a), join(keep_b), join(keep_w), graph.m) if keep_above is not None else None
    return added, worst, kept


def _column_generation(graph, codes: np.ndarray, weights: np.ndarray, lap=None):
    """Solve the matching LP over the whole graph by pricing edges in; returns
    (edges, weights, duals, largest remaining violation, rounds). ``sum(duals) + m * violation / 2``
    bounds every matching of the graph from above."""
    lap = lap or (lambda name, since: time.perf_counter())
    t = time.perf_counter()
    lp = _MatchingLP(graph.m)
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
            return codes, weights, y, max(worst, 0.0), rounds
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


def solve_general(scorer: Scorer, active: np.ndarray):
    """Maximum-weight matching of the full feasible graph, proven optimal by pricing and fixing."""
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(timings.get(name, 0.0) + now - since, 3)
        return now

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
    t = lap("candidates", t)
    if len(codes) == 0:
        return [], {"solver": "blossom+lp", "edges": 0, "gap": 0.0, "certified": True, "timings": timings}
    codes, weights, y, worst, rounds = _column_generation(graph, codes, weights, lap)
    # Every edge now has reduced cost <= worst: raising each dual by worst/2 makes y feasible.
    upper = float(y.sum()) + m * worst / 2
    reduced = weights - y[codes // m] - y[codes % m]
    near = reduced >= -NEAR_TIGHT
    pairs, incumbent = _blossom_codes(codes[near], weights[near], m)
    t = lap("incumbent", t)
    slack = max(upper - incumbent, 0.0)
    # Fixing under the raised (feasible) duals, whose sum is the upper bound: the rule is exact.
    _, _, kept = _price(graph, y + worst / 2, 0, slack + 1e-9)
    t = lap("fixing", t)
    certified = len(kept[0]) <= FIX_LIMIT
    if certified and np.isin(kept[0], codes[near]).all():
        total = incumbent  # the incumbent was the best matching over a superset of the kept edges
    elif certified:
        pairs, total = _blossom_codes(kept[0], kept[1], m)
        t = lap("blossom", t)
        if total < incumbent:  # rounding in the integer weights; keep the better of the two
            pairs, total = _blossom_codes(codes[near], weights[near], m)
    else:
        total = incumbent
    lp_gap = max(0.0, (upper - total) / upper) if upper > 0 else 0.0
    return [(int(active[a]), int(active[b])) for a, b in pairs], {
        "solver": "blossom+lp", "edges": int(len(codes)), "pricing_rounds": rounds,
        "upper_bound": round(upper, 9), "lp_gap": lp_gap, "gap": 0.0 if certified else lp_gap,
        "edges_kept_by_fixing": int(len(kept[0])), "certified": certified,
        "value_matrix_in_memory": graph.matrix is not None, "timings": timings}


def _max_teams(codes: np.ndarray, m: int) -> int:
    if len(codes) == 0:
        return 0
    return len(blossom(list(zip((codes // m).tolist(), (codes % m).tolist())), None, max_cardinality=True, unit=True))


def _bottleneck(codes: np.ndarray, values: np.ndarray, m: int, size: int, floor: float = -np.inf) -> float:
    """The highest edge value t (>= floor) such that edges worth at least t still form ``size`` teams."""
    levels = np.unique(values[values >= floor])
    lo, hi = 0, len(levels) - 1  # levels[lo] admits `size` teams (the caller knows)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        keep = values >= levels[mid]
        if keep.sum() >= size and _max_teams(codes[keep], m) >= size:
            lo = mid
        else:
            hi = mid - 1
    return float(levels[lo])


def _egalitarian_priced(graph: _Graph):
    """Egalitarian on a large pool, proven on the whole graph with LP bounds (same pricing as balanced).

    1. K, the most teams: blossom on candidate edges finds K teams; the fractional matching number of
       the whole graph (priced LP, unit weights) bounds it; floor(bound) == K proves K.
    2. t, the best worst team: binary search on known edges; then the whole graph restricted to edges
       worth more than t is priced: if its fractional bound is below K, no better t exists; if not,
       its priced edges may form K teams, which raises t, and the step repeats.
    3. the heaviest K teams from edges worth at least t: balanced pricing and fixing on that graph with
       each edge worth w + M (M above any total, so more teams always wins).
    Returns (pairs as positions, stats).
    """
    m = graph.m
    codes, values = _top_edges(graph, CANDIDATES)
    if len(codes) == 0:
        return [], {"edges": 0, "certified": True, "gap": 0.0}
    best = np.concatenate([block.max(axis=1) for _, block in graph.rows()])  # each person's best partner
    size = _max_teams(codes, m)
    # K can never exceed half the people who have any feasible partner; else the LP bound decides.
    proven_size = size >= int(np.isfinite(best).sum()) // 2
    if not proven_size:
        unit = _Weighed(graph, lambda b: np.where(np.isfinite(b), 1.0, -np.inf))
        priced, _, y, worst, _ = _column_generation(unit, codes, np.ones(len(codes)))
        extra = priced[~np.isin(priced, codes)]
        codes, values = np.concatenate([codes, extra]), np.concatenate([values, _values_of(graph, extra)])
        size = _max_teams(codes, m)
        proven_size = size >= int(np.floor(float(y.sum()) + m * worst / 2 + 1e-6))
    # At most m - 2K people stay unmatched, so one of the m - 2K + 1 people with the weakest best
    # partner is in a team, and that team is worth at most their best: t <= that value.
    ceiling = float(np.sort(best)[m - 2 * size]) if size else -np.inf
    proven_level = False
    if size and (values >= ceiling).sum() >= size and _max_teams(codes[values >= ceiling], m) >= size:
        level, proven_level = ceiling, True
    else:
        level = _bottleneck(codes, values, m, size)
    for _ in range(0 if proven_level else 8):
        above = _Weighed(graph, lambda b, t=level: np.where(b > t, 1.0, -np.inf))
        start = codes[values > level]
        if len(start) == 0:
            start = _top_edges(above, CANDIDATES)[0]
        if len(start) == 0:  # no edge is worth more than t at all
            proven_level = True
            break
        found, _, y_above, worst_above, _ = _column_generation(above, start, np.ones(len(start)))
        if np.floor(float(y_above.sum()) + m * worst_above / 2 + 1e-6) < size:
            proven_level = True
            break
        fresh = found[~np.isin(found, codes)]
        codes, values = np.concatenate([codes, fresh]), np.concatenate([values, _values_of(graph, fresh)])
        if _max_teams(codes[values > level], m) < size:
            break  # the bound leaves room but no better K teams were found: report it, claim nothing
        level = _bottleneck(codes, values, m, size, floor=level)
    big = float(size + 1) * (float(np.max(values)) + 1.0)
    heavy = _Weighed(graph, lambda b: np.where(b >= level, b + big, -np.inf))
    keep = values >= level
    fcodes, fweights, y, worst, _ = _column_generation(heavy, codes[keep], values[keep] + big)
    upper = float(y.sum()) + m * worst / 2
    pairs, total = _blossom_codes(fcodes, fweights - big, m, max_cardinality=True)
    _, _, kept = _price(heavy, y + worst / 2, 0, max(upper - (total + big * len(pairs)), 0.0) + 1e-6)
    proven_total = len(kept[0]) <= FIX_LIMIT
    if proven_total and not np.isin(kept[0], fcodes).all():
        pairs, _ = _blossom_codes(kept[0], kept[1] - big, m, max_cardinality=True)
    certified = proven_size and proven_level and proven_total and len(pairs) == size
    return pairs, {"edges": int(len(codes)), "teams_possible": size, "worst_team_value": level,
                   "certified": bool(certified), "gap": 0.0 if certified else None,
                   "proofs": {"teams": bool(proven_size), "worst_team": proven_level, "total": proven_total}}


def solve_egalitarian(scorer: Scorer, active: np.ndarray):
    """Maximise the worst team's value among matchings of maximum size, then the total.

    Egalitarian never leaves more people unmatched than necessary: it first finds the largest
    number of teams K the feasible graph allows, then the highest threshold t such that K teams
    can still be formed from edges worth at least t (binary search over the edge values), then
    the heaviest matching of K teams from those edges.
    """
    graph = _Graph(scorer, active)
    m = len(active)
    if EGALITARIAN_FULL_LIMIT < m <= EGALITARIAN_PRICED_LIMIT:
        pairs, stats = _egalitarian_priced(graph)
        return ([(int(active[a]), int(active[b])) for a, b in pairs],
                {"solver": "blossom-egalitarian+lp", **stats})
    whole = m <= EGALITARIAN_FULL_LIMIT
    codes, weights = _top_edges(graph, m if whole else CANDIDATES)
    del graph
    if len(codes) == 0:
        return [], {"solver": "blossom-egalitarian", "edges": 0, "gap": 0.0, "certified": True}
    edge_list = [(int(active[a]), int(active[b])) for a, b in zip((codes // m).tolist(), (codes % m).tolist())]
    size = len(blossom(edge_list, weights, max_cardinality=True, unit=True))
    level = _bottleneck(codes, weights, m, size)
    keep = weights >= level
    sub = [e for e, k in zip(edge_list, keep) if k]
    pairs = blossom(sub, weights[keep], max_cardinality=True)
    # Above EGALITARIAN_PRICED_LIMIT the search runs on each person's best partners only: a good
    # answer without a proof, so the gap is unknown rather than zero.
    return pairs, {"solver": "blossom-egalitarian", "edges": len(edge_list), "teams_possible": size,
                   "worst_team_value": level, "gap": 0.0 if whole else None, "certified": whole}
