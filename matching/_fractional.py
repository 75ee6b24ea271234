"""Fractional matching number of a sparse graph, with a certificate, by bipartite matching.

The fractional matching LP (one row per person, x_e >= 0, no odd-set rows) has half-integral
optima, and its value is half the maximum matching of the graph's *bipartite double cover* (each
person appears once on the left and once on the right; an edge uv joins left u to right v and
left v to right u). That matching is Hopcroft-Karp (``scipy.sparse.csgraph``, compiled), so it
is exact and fast even on hundreds of thousands of edges.

König's theorem turns the maximum matching into a minimum vertex cover C of the double cover,
and ``y_v = ([left v in C] + [right v in C]) / 2`` is a fractional vertex cover of the original
graph (y_u + y_v >= 1 on every edge) whose sum equals the fractional matching number. Those ``y``
are LP duals: pricing them against edges that were left out proves (or disproves) that the
number holds for the whole graph, exactly as the LP duals do in the balanced solver.
"""
from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, maximum_bipartite_matching


def fractional_matching(codes: np.ndarray, m: int) -> tuple[int, np.ndarray]:
    """(twice the fractional matching number, a fractional vertex cover y with sum(y) equal to it / 2).

    ``codes`` are undirected edges min*m+max among positions 0..m-1.
    """
    if len(codes) == 0:
        return 0, np.zeros(m)
    a, b = codes // m, codes % m
    left = np.concatenate([a, b])
    right = np.concatenate([b, a])
    cover = csr_matrix((np.ones(len(left), np.int8), (left, right)), shape=(m, m))
    mate = maximum_bipartite_matching(cover, perm_type="column")  # left i -> right mate[i], or -1
    matched = np.flatnonzero(mate >= 0)
    # König: Z = everything reachable from an unmatched left vertex by alternating paths (any edge
    # left -> right, the matching edge right -> left); the cover is (left not in Z) + (right in Z).
    source = 2 * m
    free = np.flatnonzero(mate < 0)
    rows = np.concatenate([left, m + mate[matched], np.full(len(free), source)])
    cols = np.concatenate([m + right, matched, free])
    walk = csr_matrix((np.ones(len(rows), np.int8), (rows, cols)), shape=(2 * m + 1, 2 * m + 1))
    reached = np.zeros(2 * m + 1, bool)
    reached[breadth_first_order(walk, source, directed=True, return_predecessors=False)] = True
    y = ((~reached[:m]).astype(np.float64) + reached[m:2 * m]) / 2
    return len(matched), y
