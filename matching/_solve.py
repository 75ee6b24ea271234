"""Exact solvers for the two objectives.

* Two-group graphs (cross-gender *required* and everyone a woman or a man): a rectangular
  assignment problem, solved exactly on the full value matrix by
  ``scipy.optimize.linear_sum_assignment``. Non-edges weigh 0 and every edge weighs more, so the
  best full assignment minus its zero-weight pairs is a maximum-weight matching.
* Any other graph (non-binary, self-described or undisclosed people, or cross-gender off/prefer):
  general maximum-weight matching with Edmonds' blossom algorithm (``rustworkx``, compiled; O(n^3)
  worst case, fast on sparse graphs) on a candidate graph: every feasible edge for pools up to
  ``FULL_GRAPH_LIMIT`` people (exact), otherwise each person's ``CANDIDATES`` best partners.
  For large pools the matching LP relaxation is solved on the candidate graph
  (``scipy.optimize.linprog``, HiGHS); edges of the *full* graph with positive reduced cost
  ``w_uv - y_u - y_v`` are priced in and the LP re-solved, for a few rounds. Raising each node's dual
  by its largest remaining violation makes the duals feasible for the full graph, so their sum is
  an upper bound on the full optimum: ``stats.upper_bound`` and ``stats.gap`` report it (the gap
  also contains the LP's integrality gap, so it over-states the true distance from optimal).

Weights go to the blossom algorithm as integers (value x ``SCALE``); the rounding is far below the
reported precision.
"""
from __future__ import annotations

import time

import numpy as np
import rustworkx as rx
from scipy.optimize import linear_sum_assignment, linprog
from scipy.sparse import csr_matrix

from ._pool import Pool
from ._scores import Scorer

FULL_GRAPH_LIMIT = 600
CANDIDATES = 16
MAX_ROUNDS = 3
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


def _candidate_edges(scorer: Scorer, active: np.ndarray) -> dict[tuple[int, int], float]:
    """Feasible edges to start from: all of them for small pools, each person's best otherwise."""
    edges: dict[tuple[int, int], float] = {}
    keep_all = len(active) <= FULL_GRAPH_LIMIT
    for rows, (value, feasible, _, _) in scorer.blocks(active):
        value = value[:, active]
        feasible = feasible[:, active]
        for i, row in enumerate(rows):
            cols = np.flatnonzero(feasible[i])
            if not keep_all and len(cols) > CANDIDATES:
                cols = cols[np.argpartition(-value[i, cols], CANDIDATES)[:CANDIDATES]]
            for j in cols:
                a, b = int(row), int(active[j])
                if a != b:
                    edges[(min(a, b), max(a, b))] = float(value[i, j])
    return edges


def _incidence(edge_list: list[tuple[int, int]], nodes: dict[int, int]) -> csr_matrix:
    m = len(edge_list)
    rows = np.empty(2 * m, dtype=np.int64)
    rows[0::2] = [nodes[a] for a, _ in edge_list]
    rows[1::2] = [nodes[b] for _, b in edge_list]
    cols = np.repeat(np.arange(m), 2)
    return csr_matrix((np.ones(2 * m), (rows, cols)), shape=(len(nodes), m))


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


def _lp_duals(edge_list, weights, nodes) -> tuple[np.ndarray, float]:
    """Node duals of the matching LP relaxation and its optimum (an upper bound)."""
    A = _incidence(edge_list, nodes)
    # x <= 1 is implied by the node rows, so the optimum equals sum(duals) exactly.
    result = linprog(-np.asarray(weights), A_ub=A, b_ub=np.ones(len(nodes)), bounds=(0, None), method="highs")
    duals = -result.ineqlin.marginals
    return np.maximum(duals, 0.0), -result.fun


def solve_general(scorer: Scorer, active: np.ndarray):
    """Maximum-weight matching, proven optimal for the full graph by reduced-cost fixing.

    Small pools: every feasible edge goes to the blossom algorithm (exact). Large pools: start from
    each person's best partners, tighten LP duals for a few pricing rounds, solve the candidate
    graph exactly (the incumbent), then keep every full-graph edge whose reduced cost under
    full-graph-feasible duals y' is at least -(sum(y') - incumbent): any matching using an edge
    outside that set is worth less than the incumbent, so the blossom optimum over the kept edges
    is the optimum of the full graph. ``stats.certified`` says when that proof went through.
    """
    timings = {}
    t0 = time.perf_counter()
    edges = _candidate_edges(scorer, active)
    timings["candidates"] = round(time.perf_counter() - t0, 3)
    if len(active) <= FULL_GRAPH_LIMIT or not edges:
        t0 = time.perf_counter()
        pairs = blossom(sorted(edges), [edges[e] for e in sorted(edges)])
        timings["blossom"] = round(time.perf_counter() - t0, 3)
        return pairs, {"solver": "blossom", "edges": len(edges), "gap": 0.0, "certified": True, "timings": timings}
    nodes = {int(v): i for i, v in enumerate(active)}
    t0 = time.perf_counter()
    for _ in range(MAX_ROUNDS):
        edge_list = sorted(edges)
        duals, _ = _lp_duals(edge_list, [edges[e] for e in edge_list], nodes)
        added, upper, y_full = _violations(scorer, active, nodes, duals, edges)
        if added == 0:
            break
    timings["pricing"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    edge_list = sorted(edges)
    pairs = blossom(edge_list, [edges[e] for e in edge_list])
    incumbent = float(sum(edges[p] for p in pairs))
    timings["blossom"] = round(time.perf_counter() - t0, 3)
    slack = upper - incumbent
    t0 = time.perf_counter()
    extra = _fixing_pass(scorer, active, y_full, slack, edges, limit=len(edges) // 2)
    timings["fixing"] = round(time.perf_counter() - t0, 3)
    certified = extra is not None
    if extra:
        t0 = time.perf_counter()
        edges.update(extra)
        edge_list = sorted(edges)
        pairs = blossom(edge_list, [edges[e] for e in edge_list])
        timings["blossom_2"] = round(time.perf_counter() - t0, 3)
    total = float(sum(edges[p] for p in pairs))
    gap = max(0.0, (upper - total) / upper) if upper > 0 else 0.0
    return pairs, {"solver": "blossom", "edges": len(edges), "upper_bound": round(upper, 9), "gap": gap,
                   "edges_beyond_candidates": len(extra or {}), "certified": certified, "timings": timings}


def _fixing_pass(scorer, active, y_full, slack, edges, limit: int) -> dict[tuple[int, int], float] | None:
    """Full-graph edges not yet in ``edges`` that could still be in a better matching.

    None when there would be more than ``limit`` of them (the bound is too loose to prove much).
    """
    extra = {}
    for rows, (value, feasible, _, _) in scorer.blocks(active):
        value, feasible = value[:, active], feasible[:, active]
        reduced = value - y_full[rows][:, None] - y_full[active][None, :]
        keep = feasible & (reduced >= -slack - 1e-9)
        for i, j in np.argwhere(keep):
            a, b = int(rows[i]), int(active[j])
            key = (min(a, b), max(a, b))
            if a != b and key not in edges:
                extra[key] = float(value[i, j])
        if len(extra) > limit:
            return None
    return extra


def _violations(scorer, active, nodes, duals, edges, per_row: int = 6):
    """Price the full graph under the LP duals; return (edges added, upper bound, feasible duals).

    Each person gains up to ``per_row`` partners of positive reduced cost ``w_uv - y_u - y_v``
    (this spreads candidates away from the few people everybody ranks first). The bound raises
    every node's dual by its largest remaining violation, which makes the duals feasible for every
    edge of the full graph, so their sum bounds the full optimum.
    """
    y = np.zeros(scorer.pool.n)
    y[active] = duals[[nodes[int(v)] for v in active]]
    raise_by = np.zeros(scorer.pool.n)
    added = 0
    for rows, (value, feasible, _, _) in scorer.blocks(active):
        value, feasible = value[:, active], feasible[:, active]
        reduced = value - y[rows][:, None] - y[active][None, :]
        reduced[~feasible] = -np.inf
        raise_by[rows] = np.maximum(reduced.max(axis=1), 0.0)
        k = min(per_row, reduced.shape[1] - 1)
        top = np.argpartition(-reduced, k, axis=1)[:, :per_row] if k > 0 else np.zeros((len(rows), 0), int)
        for i, j in zip(np.repeat(np.arange(len(rows)), top.shape[1]), top.ravel()):
            if reduced[i, j] > 1e-7:
                a, b = int(rows[i]), int(active[j])
                key = (min(a, b), max(a, b))
                if a != b and key not in edges:
                    edges[key] = float(value[i, j])
                    added += 1
    y_full = y + raise_by
    return added, float(y_full[active].sum()), y_full


def solve_egalitarian(scorer: Scorer, active: np.ndarray):
    """Maximise the worst team's value among matchings of maximum size, then the total.

    Egalitarian never leaves more people unmatched than necessary: it first finds the largest
    number of teams K the feasible graph allows, then the highest threshold t such that K teams
    can still be formed from edges worth at least t (binary search over the edge values), then
    the heaviest matching of K teams from those edges.
    """
    edges = _candidate_edges(scorer, active)
    edge_list = sorted(edges)
    if not edge_list:
        return [], {"solver": "blossom-egalitarian", "edges": 0, "gap": 0.0, "certified": True}
    weights = np.array([edges[e] for e in edge_list])
    size = len(blossom(edge_list, weights, max_cardinality=True, unit=True))
    levels = np.unique(weights)
    lo, hi = 0, len(levels) - 1  # levels[lo] always admits `size` teams
    while lo < hi:
        mid = (lo + hi + 1) // 2
        keep = weights >= levels[mid]
        sub = [e for e, k in zip(edge_list, keep) if k]
        if len(sub) >= size and len(blossom(sub, weights[keep], max_cardinality=True, unit=True)) >= size:
            lo = mid
        else:
            hi = mid - 1
    keep = weights >= levels[lo]
    sub = [e for e, k in zip(edge_list, keep) if k]
    pairs = blossom(sub, weights[keep], max_cardinality=True)
    return pairs, {"solver": "blossom-egalitarian", "edges": len(edge_list), "teams_possible": size,
                   "worst_team_value": float(levels[lo]), "gap": 0.0,
                   "certified": len(active) <= FULL_GRAPH_LIMIT}
