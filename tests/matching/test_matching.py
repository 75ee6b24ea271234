"""matching/: exactness against brute force and networkx, hard rules, reasons, CLI, purity."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matching
from matching import MatchingError, MatchResult, form_pods, rematch, solve
from matching._pool import read_pool
from matching._scores import Scorer
from matching.generate import corporate_pool


def person(pid, gender="woman", offers=("negotiation",), wants=("data analysis",), **extra):
    base = {"id": pid, "gender": gender, "department": "Sales", "location": "Berlin", "timezone": "Europe/Berlin",
            "level": 3, "manager_id": None, "offers": list(offers), "wants": list(wants),
            "availability": ["tue-10"], "previous_partners": []}
    base.update(extra)
    return base


def value_graph(pool_data):
    """The full feasible graph with the matcher's own weights, for the exact oracles."""
    pool = read_pool(pool_data)
    scorer = Scorer(pool)
    value, feasible, _, _ = scorer.block(np.arange(pool.n))
    graph = nx.Graph()
    graph.add_nodes_from(range(pool.n))
    for a, b in zip(*np.nonzero(np.triu(feasible, 1))):
        if not scorer.excluded[a] and not scorer.excluded[b]:
            graph.add_edge(int(a), int(b), weight=float(value[a, b]))
    return pool, graph


def brute_force_best(graph) -> float:
    nodes = sorted(graph.nodes)
    best = 0.0

    def extend(remaining, total):
        nonlocal best
        best = max(best, total)
        if not remaining:
            return
        first, rest = remaining[0], remaining[1:]
        extend(rest, total)
        for other in rest:
            if graph.has_edge(first, other):
                extend([r for r in rest if r != other], total + graph[first][other]["weight"])

    extend(nodes, 0.0)
    return best


def assert_valid(pool_data, result):
    pool = read_pool(pool_data)
    scorer = Scorer(pool)
    seen = set()
    for pair in result.pairs:
        members = [pair.a, pair.b] + ([pair.c] if pair.c is not None else [])
        assert tuple(members) == pair.members and set(pair.gains) == set(members)
        for m in members:
            assert m not in seen, f"{m} is in two teams"
            seen.add(m)
        for i, x in enumerate(members):
            for y in members[i + 1:]:
                value, feasible, g_xy, g_yx = scorer.pair(pool.index[x], pool.index[y])
                assert feasible, f"{x}-{y} breaks a hard rule"
                assert g_xy > 0 and g_yx > 0
        assert all(g > 0 for g in pair.gains.values())
        assert pair.reasons and pair.flags == [] and pair.origin == "matched"
    assert result.stats["warnings"] == []
    for u in result.unmatched:
        assert u.id not in seen and u.reason


def test_two_people_who_complete_each_other_are_paired_with_reasons():
    data = {"participants": [person("ana", name="Ana"),
                             person("ben", "man", offers=["data analysis"], wants=["negotiation"], name="Ben",
                                    department="IT")],
            "policy": {"cross_gender": "require"}}
    result = solve(data)
    [pair] = result.pairs
    assert {pair.a, pair.b} == {"ana", "ben"} and pair.gain_a > 0 and pair.gain_b > 0
    assert "Ana offers negotiation, which Ben wants to learn" in pair.reasons
    assert "Ben offers data analysis, which Ana wants to learn" in pair.reasons
    assert any("different departments" in r for r in pair.reasons)
    assert result.stats["solver"] == "linear_sum_assignment"


@pytest.mark.parametrize("n, seed", [(6, 1), (8, 2), (9, 3), (10, 4), (10, 5)])
@pytest.mark.parametrize("policy", [{"cross_gender": "prefer"}, {"cross_gender": "require"},
                                    {"cross_gender": "off", "department": "different"}])
def test_equals_brute_force_on_small_pools(n, seed, policy):
    data = corporate_pool(n, seed=seed, policy=policy, nonbinary_share=0.15, undisclosed_share=0.1)
    result = solve(data)
    _, graph = value_graph(data)
    assert result.stats["total_value"] == pytest.approx(brute_force_best(graph), abs=1e-5)
    assert_valid(data, result)


@pytest.mark.parametrize("n, policy", [(150, {"cross_gender": "require"}),
                                       (250, {"cross_gender": "prefer"}),
                                       (300, {"cross_gender": "require", "undisclosed": "manual"})])
def test_equals_networkx_exact_optimum(n, policy):
    data = corporate_pool(n, seed=n, policy=policy)
    result = solve(data)
    _, graph = value_graph(data)
    exact = nx.max_weight_matching(graph)
    best = sum(graph[a][b]["weight"] for a, b in exact)
    assert abs(result.stats["total_value"] - best) <= 1e-6 * max(best, 1)
    assert_valid(data, result)


@pytest.mark.parametrize("matrix_bytes", [None, 0])
def test_pricing_and_fixing_is_certified_exact_against_networkx(monkeypatch, matrix_bytes):
    """The large-pool path (LP pricing + reduced-cost fixing) proves the optimum networkx finds.

    ``matrix_bytes=0`` forces the path that recomputes the value matrix a block at a time.
    """
    import matching._solve as solver

    if matrix_bytes is not None:
        monkeypatch.setattr(solver, "MATRIX_BYTES", matrix_bytes)
    monkeypatch.setattr(solver, "CANDIDATES", 3)  # few starting edges: pricing has to do real work
    data = corporate_pool(400, seed=7, policy={"cross_gender": "prefer"})
    result = solve(data)
    _, graph = value_graph(data)
    best = sum(graph[a][b]["weight"] for a, b in nx.max_weight_matching(graph))
    stats = result.stats
    assert stats["solver"] == "blossom+lp" and stats["certified"] and stats["gap"] == 0.0
    assert stats["pricing_rounds"] > 1 and stats["value_matrix_in_memory"] is (matrix_bytes is None)
    assert abs(stats["total_value"] - best) <= 1e-6 * best
    assert best <= stats["upper_bound"] + 1e-6  # the reported bound really bounds the optimum
    assert_valid(data, result)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(min_value=2, max_value=40), seed=st.integers(0, 10_000),
       cross=st.sampled_from(["require", "prefer", "off"]), dept=st.sampled_from(["any", "different"]),
       tz=st.sampled_from([None, 3]), slots=st.sampled_from([0, 1]), gap=st.sampled_from([None, 2]),
       objective=st.sampled_from(["balanced", "egalitarian"]))
def test_no_hard_rule_is_ever_broken(n, seed, cross, dept, tz, slots, gap, objective):
    data = corporate_pool(n, seed=seed, nonbinary_share=0.1, undisclosed_share=0.1, policy={
        "cross_gender": cross, "department": dept, "max_timezone_hours": tz, "min_shared_slots": slots,
        "max_level_gap": gap, "objective": objective})
    people = data["participants"]
    data["never_pair"] = [[people[0]["id"], people[-1]["id"]]] if n > 2 else []
    data["declines"] = [[people[1]["id"], people[0]["id"]]]
    result = solve(data)
    assert_valid(data, result)
    placed = {m for p in result.pairs for m in (p.a, p.b)}
    assert {(p.a, p.b) for p in result.pairs}.isdisjoint({tuple(data["never_pair"][0])} if data["never_pair"] else set())
    assert placed | {u.id for u in result.unmatched} == {p["id"] for p in people}
    again = solve(data).to_dict()
    assert (again["pairs"], again["unmatched"]) == (result.to_dict()["pairs"], result.to_dict()["unmatched"])


def test_managers_previous_partners_and_declines_are_never_paired():
    people = [person("a", name="A"), person("b", "man", offers=["data analysis"], wants=["negotiation"], manager_id="a"),
              person("c", "man", offers=["data analysis"], wants=["negotiation"], previous_partners=["a"]),
              person("d", "man", offers=["data analysis"], wants=["negotiation"])]
    data = {"participants": people, "declines": [["d", "a"]], "policy": {"cross_gender": "require"}}
    result = solve(data)
    assert result.pairs == []
    reasons = {u.id: u.reason for u in result.unmatched}
    assert "manager" in reasons["a"]


def test_must_pair_kept_and_infeasible_must_pair_reported():
    people = [person("a"), person("b", "man", offers=["data analysis"], wants=["negotiation"]),
              person("c", "man", offers=["data analysis"], wants=["negotiation"])]
    result = solve({"participants": people, "must_pair": [["a", "c"]], "policy": {}})
    assert [(p.a, p.b) for p in result.pairs] == [("a", "c")]
    people[2]["manager_id"] = "a"
    with pytest.raises(MatchingError, match=r"^a and c cannot be a team: a is c's manager\.$") as refused:
        solve({"participants": people, "must_pair": [["a", "c"]], "policy": {}})
    assert (refused.value.rule, refused.value.people) == ("manager", ["a", "c"])


def test_balance_beats_a_lopsided_pair_with_the_same_sum():
    # ana gains a lot from ben but ben little from ana; cleo and ana are balanced.
    people = [person("ana", offers=["negotiation"], wants=["data analysis", "python"]),
              person("ben", "man", offers=["data analysis", "python"], wants=["negotiation", "coaching", "budgeting"]),
              person("cleo", "man", offers=["data analysis"], wants=["negotiation"])]
    result = solve({"participants": people, "policy": {"cross_gender": "off", "weights": {
        "gender": 0, "department": 0, "location": 0, "timezone": 0, "availability": 0}}})
    assert [(p.a, p.b) for p in result.pairs] == [("ana", "cleo")]


def test_egalitarian_raises_the_worst_team():
    data = corporate_pool(60, seed=11, policy={"cross_gender": "prefer"})
    balanced = solve(data)
    data["policy"]["objective"] = "egalitarian"
    fair = solve(data)
    assert fair.stats["worst_team_value"] >= balanced.stats["worst_team_value"] - 1e-9
    assert fair.stats["teams"] >= balanced.stats["teams"]
    assert_valid(data, fair)


def test_leftover_attached_as_trio_when_asked():
    people = [person("a"), person("b", "man", offers=["data analysis", "coaching"], wants=["negotiation", "writing"]),
              person("c", "non-binary", offers=["data analysis", "writing"], wants=["negotiation", "coaching"],
                     department="IT")]
    result = solve({"participants": people, "policy": {"attach_leftovers": True, "cross_gender": "off"}})
    [team] = result.pairs
    assert team.c is not None and result.unmatched == []
    assert result.to_dict()["pairs"][0]["c"] == team.c


def test_undisclosed_left_for_manual_matching_when_policy_says_so():
    people = [person("a"), person("b", "undisclosed", offers=["data analysis"], wants=["negotiation"])]
    result = solve({"participants": people, "policy": {"undisclosed": "manual"}})
    assert result.pairs == [] and "by hand" in result.unmatched[1].reason
    assert solve({"participants": people, "policy": {"undisclosed": "any", "cross_gender": "require"}}).pairs


def test_rematch_keeps_unaffected_teams():
    data = corporate_pool(40, seed=3)
    first = solve(data)
    teams = [[p.a, p.b] for p in first.pairs]
    dropped = teams[0][0]
    again = rematch(data, teams, [dropped])
    kept = {tuple(sorted(t)) for t in teams[1:]}
    now = {tuple(sorted((p.a, p.b))) for p in again.pairs}
    assert kept <= now
    assert dropped not in {m for t in now for m in t}
    assert teams[0][1] in again.stats["changed"]


def test_pods_have_two_or_three_teams_and_mix_departments():
    data = corporate_pool(60, seed=5)
    result = solve(data)
    pods = form_pods(result.to_dict()["pairs"], data["participants"])
    assert sum(len(p) for p in pods) == len(result.pairs)
    assert all(2 <= len(p) <= 3 for p in pods)
    assert form_pods(result.to_dict()["pairs"], data["participants"]) == pods
    assert form_pods(result.pairs, data["participants"]) == pods
    stored_before_members = [{k: v for k, v in p.items() if k != "members"} for p in result.to_dict()["pairs"]]
    assert form_pods(stored_before_members, data["participants"]) == pods


def test_pods_keep_trios_whole():
    people = [person(p, "man" if i % 2 else "woman", department=d) for i, (p, d) in
              enumerate([("a", "Sales"), ("b", "IT"), ("c", "HR"), ("d", "Legal"), ("e", "IT"), ("f", "Sales"),
                         ("g", "HR")])]
    result = rematch({"participants": people, "policy": {"cross_gender": "off"}},
                     [["a", "b", "c"], ["d", "e"], ["f", "g"]], [])
    pods = form_pods(result.to_dict()["pairs"], people)
    assert sorted(m for pod in pods for team in pod for m in team) == list("abcdefg")
    assert ["a", "b", "c"] in [team for pod in pods for team in pod]


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["participants"].append(dict(d["participants"][0])), "participant 'p00000', field 'id': duplicate id"),
    (lambda d: d.update(never_pair=[["p00000", "ghost"]]), "participant 'ghost', field 'never_pair': unknown id"),
    (lambda d: d.update(must_pair=[["p00000", "p00001"]], never_pair=[["p00001", "p00000"]]), "also in never_pair"),
    (lambda d: d["participants"][2].pop("wants"), "participant 'p00002', field 'wants': missing"),
    (lambda d: d["participants"][3].update(level="senior"), "participant 'p00003', field 'level': must be an integer"),
    (lambda d: d["participants"][1].update(timezone="Mars/Base"), "field 'timezone': unknown time zone"),
    (lambda d: d["participants"][1].update(gender="robot"), "field 'gender'"),
    (lambda d: d.update(participants=[]), "the pool has no participants"),
    (lambda d: d["policy"].update(cross_gender="always"), "policy.cross_gender"),
])
def test_cli_bad_input_exit_2_with_one_clear_message(tmp_path, mutate, message):
    data = corporate_pool(6, seed=1)
    mutate(data)
    path = tmp_path / "pool.json"
    path.write_text(json.dumps(data))
    run = subprocess.run([sys.executable, "-m", "matching", "solve", str(path)], capture_output=True, text=True)
    assert run.returncode == 2
    assert message in run.stderr and "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1


def test_cli_writes_result_json(tmp_path):
    path, out = tmp_path / "pool.json", tmp_path / "result.json"
    path.write_text(json.dumps(corporate_pool(30, seed=2)))
    run = subprocess.run([sys.executable, "-m", "matching", "solve", str(path), "-o", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    result = json.loads(out.read_text())
    assert set(result) == {"pairs", "unmatched", "stats"}
    assert set(result["pairs"][0]) >= {"a", "b", "score", "gain_a", "gain_b", "reasons"}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    run = subprocess.run([sys.executable, "-m", "matching", "solve", str(bad)], capture_output=True, text=True)
    assert run.returncode == 2 and "not valid JSON (line 1" in run.stderr


def test_pure_packages_import_no_web_stack():
    code = ("import sys, matching, matching.generate, matching.__main__; "
            "print('flask' in sys.modules, 'sqlalchemy' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False False"


def test_doctests():
    import doctest

    assert doctest.testmod(matching).failed == 0


@pytest.mark.parametrize("n, seed, policy", [
    (150, 5, {"cross_gender": "prefer"}),
    (301, 7, {"cross_gender": "prefer"}),  # odd: one person left over, a stand-in in the LP
    (200, 3, {"cross_gender": "off", "min_shared_slots": 3, "max_timezone_hours": 2}),  # 46 left over
    (240, 4, {"cross_gender": "require", "department": "different", "max_level_gap": 1}),
])
def test_egalitarian_priced_path_is_proven_and_equals_the_whole_graph_search(monkeypatch, n, seed, policy):
    """The proven egalitarian path (large pools) gives the whole-graph answer, with its proofs."""
    import matching._solve as solver

    data = corporate_pool(n, seed=seed, policy={**policy, "objective": "egalitarian"})
    exact = solve(data).stats
    assert exact["solver"] == "blossom-egalitarian" and exact["certified"]
    monkeypatch.setattr(solver, "EGALITARIAN_FULL_LIMIT", 50)
    monkeypatch.setattr(solver, "CANDIDATES", 3)  # few starting edges: the proofs must price the rest
    priced = solve(data)
    stats = priced.stats
    assert stats["solver"] == "blossom-egalitarian+lp" and stats["certified"] and stats["gap"] == 0.0
    assert stats["proofs"] == {"teams": True, "worst_team": True, "total": True}
    assert (stats["teams"], stats["worst_team_value"]) == (exact["teams"], exact["worst_team_value"])
    assert abs(stats["total_value"] - exact["total_value"]) <= 1e-6 * exact["total_value"]
    assert stats["upper_bound"] >= stats["total_value"] - 1e-3  # total_value sums rounded team scores
    assert_valid(data, priced)


def _triangles(groups: int, crowd: int = 0) -> dict:
    """Groups of three who can only pair among themselves (fractionally 1.5 teams each, really one),
    and a crowd who can pair with each other."""
    people = [{"id": f"p{g:02d}{k:02d}", "gender": "woman", "department": "Sales", "location": "Lisbon",
               "timezone": "Europe/Lisbon", "level": 2 + k % 3, "manager_id": None,
               "offers": ["negotiation", "python"], "wants": ["negotiation", "python"],
               "availability": ["tue-10"], "previous_partners": []}
              for g, size in [(g, 3) for g in range(groups)] + [(groups, crowd)] for k in range(size)]
    never = [[a["id"], b["id"]] for i, a in enumerate(people) for b in people[i + 1:] if a["id"][:3] != b["id"][:3]]
    return {"participants": people, "never_pair": never,
            "policy": {"cross_gender": "off", "objective": "egalitarian"}}


def test_egalitarian_falls_back_when_whole_teams_miss_the_fractional_bound(monkeypatch):
    """Odd groups that can only pair among themselves: the fractional bound (4.5 teams) is not met;
    the search falls back to the known edges, here every edge, so the answer is still proven."""
    import matching._solve as solver

    data = _triangles(3)
    exact = solve(data).stats
    assert (exact["teams"], exact["certified"]) == (3, True)
    monkeypatch.setattr(solver, "EGALITARIAN_FULL_LIMIT", 4)
    priced = solve(data)
    assert priced.stats["solver"] == "blossom-egalitarian+lp"
    assert (priced.stats["teams"], priced.stats["worst_team_value"]) == (3, exact["worst_team_value"])
    assert priced.stats["certified"] is True and priced.stats["gap"] == 0.0
    assert "fallback" in priced.stats["timings"] and "upper_bound" not in priced.stats
    assert_valid(data, priced)
    # With a crowd whose edges were never all priced, the fallback is a search without a proof.
    data = _triangles(3, crowd=40)
    exact = solve(data).stats
    monkeypatch.setattr(solver, "CANDIDATES", 2)
    partial = solve(data).stats
    assert "fallback" in partial["timings"] and partial["edges"] < exact["edges"]
    assert partial["certified"] is False and partial["gap"] is None
    assert partial["teams"] <= exact["teams"]
    if partial["teams"] == exact["teams"]:
        assert partial["worst_team_value"] <= exact["worst_team_value"] + 1e-9


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 12).flatmap(lambda n: st.tuples(
    st.just(n), st.sets(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=30))))
def test_fractional_matching_equals_the_lp_and_its_cover_proves_it(graph):
    """Double-cover matching = fractional matching LP optimum; y covers every edge and sums to it."""
    from scipy.optimize import linprog

    from matching._fractional import fractional_matching

    m, raw = graph
    edges = sorted({(min(a, b), max(a, b)) for a, b in raw if a != b})
    codes = np.array([a * m + b for a, b in edges], dtype=np.int64)
    doubled, y = fractional_matching(codes, m)
    assert abs(y.sum() - doubled / 2) < 1e-12
    assert all(y[a] + y[b] >= 1 for a, b in edges) and (y >= 0).all()
    if edges:
        rows = np.zeros((m, len(edges)))
        for j, (a, b) in enumerate(edges):
            rows[a, j] = rows[b, j] = 1
        lp = linprog(-np.ones(len(edges)), A_ub=rows, b_ub=np.ones(m), bounds=(0, None), method="highs")
        assert abs(-lp.fun - doubled / 2) < 1e-9
    else:
        assert doubled == 0


def test_rematch_keeps_a_published_trio_whole():
    """A kept trio's third member used to vanish from both the teams and the unmatched list."""
    people = [person("a"), person("b", "man", offers=["data analysis"], wants=["negotiation"], department="IT"),
              person("c", "non-binary", offers=["data analysis", "writing"], wants=["negotiation"], department="HR"),
              person("d", "man", offers=["data analysis"], wants=["negotiation"], department="IT"),
              person("e", offers=["negotiation"], wants=["data analysis"], department="HR")]
    data = {"participants": people, "policy": {"cross_gender": "off"}}
    result = rematch(data, [["a", "b", "c"], ["d", "e"]], [])
    placed = [m for team in result.pairs for m in team.members]
    assert sorted(placed) == ["a", "b", "c", "d", "e"] and result.unmatched == []
    [trio] = [team for team in result.pairs if len(team.members) == 3]
    assert (trio.a, trio.b, trio.c) == ("a", "b", "c") and trio.members == ("a", "b", "c")
    assert set(trio.gains) == {"a", "b", "c"} and trio.gain_c == trio.gains["c"] > 0
    item = next(i for i in result.to_dict()["pairs"] if i["members"] == ["a", "b", "c"])
    assert (item["c"], item["gain_c"]) == ("c", trio.gain_c) and item["gains"]["c"] == trio.gain_c


def named_pool(**extra):
    """Chloé and Ben (Ben offers nothing Chloé wants), Ana and Dev who complete each other, Eve."""
    people = [person("chloe", name="Chloé", offers=["negotiation"], wants=["python"]),
              person("ben", "man", name="Ben", offers=["data analysis"], wants=["negotiation"], department="IT"),
              person("ana", name="Ana", offers=["negotiation"], wants=["data analysis"], department="HR"),
              person("dev", "man", name="Dev", offers=["data analysis"], wants=["negotiation"], department="IT"),
              person("eve", name="Eve", offers=["coaching"], wants=["data analysis"], department="Legal")]
    return {"participants": people, "policy": {"cross_gender": "off"}, **extra}


def test_one_sided_must_pair_is_kept_and_flagged():
    result = solve(named_pool(must_pair=[["chloe", "ben"]]))
    [team] = [t for t in result.pairs if "chloe" in t.members]
    assert set(team.members) == {"chloe", "ben"} and team.origin == "must_pair"
    assert team.gains == {"ben": 1.0, "chloe": 0.0}
    message = "Chloé gains nothing from Ben: nothing Ben offers is on Chloé's list to learn; add a skill or swap."
    assert team.flags == [{"kind": "one_sided", "members": ["ben", "chloe"], "people": ["chloe"],
                           "person": "chloe", "message": message}]
    assert result.stats["warning_details"] == team.flags and result.stats["warnings"] == [message]
    assert result.to_dict()["pairs"][0]["flags"] == team.flags
    # the rest of the pool is still matched, and by the rules
    assert {t.members for t in result.pairs if t.origin == "matched"} == {("ana", "dev")}


@pytest.mark.parametrize("policy, change, kind, words", [
    ({"cross_gender": "require"}, {"gender": "woman"}, "cross_gender", "share a gender identity"),
    ({"department": "different"}, {"department": "HR"}, "department", "are both in HR"),
    ({"max_timezone_hours": 2}, {"timezone": "Asia/Kolkata"}, "timezone", "4.5 hours apart"),
    ({"min_shared_slots": 1}, {"availability": ["wed-09"]}, "shared_slots", "share 0 free hours a week"),
    ({"max_level_gap": 1}, {"level": 6}, "level_gap", "are 3 levels apart"),
    ({}, {"previous_partners": ["ana"]}, "previous_partner", "were partners before"),
])
def test_a_must_pair_overrides_every_soft_and_policy_rule(policy, change, kind, words):
    """Pinned Ana and Ben break one rule each time: the team is kept and flagged, never refused."""
    data = named_pool(must_pair=[["ana", "ben"]])
    data["policy"].update(policy)
    next(p for p in data["participants"] if p["id"] == "ben").update(change)
    before = read_pool(data)
    assert not Scorer(before).pair(before.index["ana"], before.index["ben"])[1]  # the matcher alone would not
    result = solve(data)
    [team] = [t for t in result.pairs if t.origin == "must_pair"]
    assert team.members == ("ana", "ben") and team.score > 0
    [warning] = result.stats["warning_details"]
    assert result.stats["warnings"] == [warning["message"]]
    assert warning["kind"] == kind and warning["members"] == ["ana", "ben"] and words in warning["message"]
    assert warning["message"].endswith("kept because they are pinned together.")
    assert_valid(data, MatchResult([t for t in result.pairs if t.origin == "matched"], result.unmatched, {
        "warnings": []}))


@pytest.mark.parametrize("extra, rule, people, words", [
    ({"participants_update": {"ben": {"manager_id": "ana"}}}, "manager", ["ana", "ben"], "Ana is Ben's manager"),
    ({"never_pair": [["ben", "ana"]]}, "never_pair", ["ana", "ben"], "marked them never to be paired"),
    ({"declines": [["ben", "ana"]]}, "decline", ["ana", "ben"], "Ben declined to work with Ana"),
    ({"declines": [["ana", "ben"]]}, "decline", ["ana", "ben"], "Ana declined to work with Ben"),
])
def test_only_manager_never_pair_and_decline_refuse_a_must_pair(extra, rule, people, words):
    data = named_pool(must_pair=[["ana", "ben"], ["chloe", "dev"]])
    for pid, change in extra.pop("participants_update", {}).items():
        next(p for p in data["participants"] if p["id"] == pid).update(change)
    data.update(extra)
    with pytest.raises(MatchingError) as refused:
        solve(data)
    error = refused.value
    assert (error.rule, error.people) == (rule, people)
    assert str(error).startswith("Ana and Ben cannot be a team: ") and words in str(error)
    assert "field" not in str(error) and "participant" not in str(error)
    assert error.refusals == [{"rule": rule, "rules": [rule], "members": people, "message": str(error)}]


def test_every_refused_must_pair_is_named_at_once():
    data = named_pool(must_pair=[["ana", "ben"], ["chloe", "dev"]], declines=[["dev", "chloe"]])
    next(p for p in data["participants"] if p["id"] == "ben")["manager_id"] = "ana"
    data["never_pair"] = [["ana", "ben"]]
    with pytest.raises(MatchingError) as refused:
        solve(data)
    assert [(r["members"], r["rules"]) for r in refused.value.refusals] == [
        (["ana", "ben"], ["manager", "never_pair"]), (["chloe", "dev"], ["decline"])]
    assert str(refused.value) == ("Ana and Ben cannot be a team: Ana is Ben's manager and a facilitator marked "
                                  "them never to be paired (the pair is also in never_pair). Chloé and Dev cannot "
                                  "be a team: Dev declined to work with Chloé.")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(min_value=2, max_value=24), seed=st.integers(0, 10_000),
       cross=st.sampled_from(["require", "prefer", "off"]), dept=st.sampled_from(["any", "different"]),
       tz=st.sampled_from([None, 0, 3]), slots=st.sampled_from([0, 1, 3]), gap=st.sampled_from([None, 0, 2]),
       mutual=st.booleans())
def test_the_rule_explainer_agrees_with_the_scorer_on_every_pair(n, seed, cross, dept, tz, slots, gap, mutual):
    """A pair breaks no rule in the explainer exactly when the scorer finds it feasible."""
    from matching._rules import pair_breaches

    data = corporate_pool(n, seed=seed, nonbinary_share=0.1, undisclosed_share=0.1, policy={
        "cross_gender": cross, "department": dept, "max_timezone_hours": tz, "min_shared_slots": slots,
        "max_level_gap": gap, "require_mutual_gain": mutual})
    people = data["participants"]
    people[-1]["previous_partners"] = [people[0]["id"]]
    data["declines"] = [[people[1]["id"], people[0]["id"]]]
    pool = read_pool(data)
    scorer = Scorer(pool)
    _, feasible, _, _ = scorer.block(np.arange(pool.n))
    for a in range(pool.n):
        for b in range(pool.n):
            if a != b and not scorer.excluded[a] and not scorer.excluded[b]:
                assert bool(feasible[a, b]) == (pair_breaches(pool, a, b) == []), (a, b)


def test_preferences_say_which_were_honoured_and_why_not():
    data = named_pool(must_pair=[["chloe", "ben"]],
                      requests=[["ana", "dev"], ["ana", "ben"], ["eve", "dev"], ["eve", "ana"], ["dev", "eve"]],
                      declines=[["eve", "chloe"]])
    next(p for p in data["participants"] if p["id"] == "eve").update(manager_id="dev")
    result = solve(data)
    prefs = {(p["kind"], p["from"], p["to"]): p for p in result.stats["preferences"]}
    assert len(prefs) == 6
    assert prefs["request", "ana", "dev"]["honoured"] and prefs["request", "ana", "dev"]["why_not"] == []
    assert prefs["request", "ana", "dev"]["message"] == "Ana asked to work with Dev: they are in the same team."
    pinned = prefs["request", "ana", "ben"]
    assert not pinned["honoured"] and pinned["why_not"] == [{"kind": "must_pair",
                                                            "message": "Ben is already pinned with Chloé"}]
    assert pinned["message"] == ("Ana asked to work with Ben: they are not in the same team, because Ben is "
                                 "already pinned with Chloé.")
    assert [w["kind"] for w in prefs["request", "eve", "dev"]["why_not"]] == ["manager", "one_sided"]
    assert prefs["request", "eve", "dev"]["why_not"][0]["message"] == "Dev is Eve's manager (a hard rule)"
    # Eve and Ana offer nothing the other wants: one reason, both people named.
    [one_sided] = prefs["request", "eve", "ana"]["why_not"]
    assert one_sided == {"kind": "one_sided", "message": (
        "the pair would give neither side anything (Eve gains nothing from Ana: nothing Ana offers is on Eve's list "
        "to learn; Ana gains nothing from Eve: nothing Eve offers is on Ana's list to learn)")}
    assert prefs["decline", "eve", "chloe"]["honoured"] is True
    assert prefs["decline", "eve", "chloe"]["message"] == "Eve declined to work with Chloé: they are not in the same team."


def test_a_request_lost_to_a_better_set_of_teams_says_so_with_the_scores():
    # Ana and Dev complete each other; so do Ben and Chloé. Ana asked for Ben, who gains a little from her.
    people = [person("ana", name="Ana", offers=["negotiation"], wants=["data analysis"]),
              person("dev", "man", name="Dev", offers=["data analysis"], wants=["negotiation"], department="IT"),
              person("ben", "man", name="Ben", offers=["data analysis", "python"], wants=["writing", "negotiation"]),
              person("chloe", name="Chloé", offers=["writing"], wants=["python"], department="HR")]
    result = solve({"participants": people, "requests": [["ana", "ben"]],
                    "policy": {"cross_gender": "off", "weights": {"requests": 1}}})
    assert {t.members for t in result.pairs} == {("ana", "dev"), ("ben", "chloe")}
    [pref] = result.stats["preferences"]
    [why] = pref["why_not"]
    assert not pref["honoured"] and why["kind"] == "optimised"
    scores = {t.members: t.score for t in result.pairs}
    assert why["message"].startswith("a better overall set of teams (the highest total): together Ana and Ben "
                                     "would score ")
    assert f"Ana's team scores {scores['ana', 'dev']:.2f} and Ben's team scores {scores['ben', 'chloe']:.2f}" \
        in why["message"]


def test_an_empty_pool_is_an_empty_result_with_a_note():
    for result in (solve({"participants": []}), rematch({"participants": []}, [], [])):
        assert (result.pairs, result.unmatched) == ([], [])
        assert result.stats["note"] == "No one to match yet."
        assert (result.stats["teams"], result.stats["participants"], result.stats["warnings"]) == (0, 0, [])
        assert result.to_dict()["pairs"] == []
    with pytest.raises(MatchingError, match="policy.cross_gender"):  # the rest is still checked
        solve({"participants": [], "policy": {"cross_gender": "always"}})
    with pytest.raises(MatchingError, match="participant 'ghost', field 'must_pair'"):
        solve({"participants": [], "must_pair": [["ghost", "ana"]]})


def test_rematch_reports_pins_it_cannot_apply_and_declines_inside_kept_teams():
    data = named_pool(must_pair=[["chloe", "eve"]], declines=[["dev", "ana"]])
    result = rematch(data, [["ana", "dev"], ["ben", "chloe"]], ["ben"])
    kept = [t for t in result.pairs if t.origin == "kept"]
    assert [t.members for t in kept] == [("ana", "dev")]
    assert [f["kind"] for f in kept[0].flags] == ["decline"]
    assert kept[0].flags[0]["message"] == "Dev declined to work with Ana; kept as published."
    assert {t.members for t in result.pairs} >= {("chloe", "eve")}  # both affected: the pin applies
    decline = next(p for p in result.stats["preferences"] if p["kind"] == "decline")
    assert not decline["honoured"] and decline["why_not"][0]["kind"] == "kept"
    # A pin across a kept team cannot apply: a warning, not a silent drop.
    data["must_pair"] = [["chloe", "dev"]]
    result = rematch(data, [["ana", "dev"], ["ben", "chloe"]], ["ben"])
    skipped = [w for w in result.stats["warning_details"] if w["kind"] == "must_pair_skipped"]
    assert skipped[0]["message"] in result.stats["warnings"]
    assert skipped == [{"kind": "must_pair_skipped", "members": ["chloe", "dev"], "people": ["chloe", "dev"],
                        "message": "Chloé and Dev are pinned together, but Dev's published team was kept as it "
                                   "was, so the pin is not applied."}]
    assert result.stats["teams"] == len(result.pairs) and result.stats["kept"] == 1


@pytest.mark.parametrize("teams, message", [
    ([["ana"]], "field 'previous_pairs': ['ana'] is not a team of 2 or 3 ids"),
    ([["ana", "ben", "chloe", "dev"]], "is not a team of 2 or 3 ids"),
    ([["ana", "ben"], ["ben", "chloe"]], "participant 'ben', field 'previous_pairs': appears in more than one team"),
])
def test_rematch_rejects_teams_that_cannot_be_teams(teams, message):
    with pytest.raises(MatchingError, match=re.escape(message)):
        rematch(named_pool(), teams, [])


def _must_pairs(data, count, one_sided):
    """``count`` must-pairs from the pool, none refused, the first ``one_sided`` of them one-sided."""
    pool = read_pool(data)
    scorer = Scorer(pool)
    used, pairs, lopsided = set(), [], 0
    for a in range(pool.n):
        for b in range(a + 1, pool.n):
            if len(pairs) == count or {a, b} & used:
                continue
            gain_ab, gain_ba = scorer.pair(a, b)[2:]
            refused = pool.manager[a] == b or pool.manager[b] == a or (a, b) in pool.never
            wanted_one_sided = lopsided < one_sided
            if not refused and (gain_ab == 0 < gain_ba if wanted_one_sided else gain_ab > 0 and gain_ba > 0):
                pairs.append([pool.ids[a], pool.ids[b]])
                used |= {a, b}
                lopsided += wanted_one_sided
    return pairs


@pytest.mark.parametrize("n", [40, 2000])
def test_cli_keeps_must_pairs_one_sided_included_and_warns(tmp_path, n):
    """A large pool with 10 must-pairs, one of them one-sided, is solved (exit 0) with a warning."""
    data = corporate_pool(n, seed=n)
    data["must_pair"] = _must_pairs(data, 10 if n > 40 else 3, 1)
    path, out = tmp_path / "pool.json", tmp_path / "result.json"
    path.write_text(json.dumps(data))
    run = subprocess.run([sys.executable, "-m", "matching", "solve", str(path), "-o", str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    result = json.loads(out.read_text())
    teams = {tuple(t["members"]): t for t in result["pairs"]}
    assert all(tuple(p) in teams and teams[tuple(p)]["origin"] == "must_pair" for p in data["must_pair"])
    lopsided = data["must_pair"][0]
    [warning] = result["stats"]["warning_details"]
    assert result["stats"]["warnings"] == [warning["message"]]
    assert (warning["kind"], warning["members"], warning["person"]) == ("one_sided", lopsided, lopsided[0])
    names = {p["id"]: p["name"] for p in data["participants"]}
    assert warning["message"].startswith(f"{names[lopsided[0]]} gains nothing from {names[lopsided[1]]}")
    assert teams[tuple(lopsided)]["flags"] == [warning]
    assert len(result["stats"]["preferences"]) == len(data["requests"])
    assert result["stats"]["certified"] and result["stats"]["teams"] >= n // 2 - 10


def test_a_team_chosen_by_hand_is_refused_only_by_a_hard_rule_and_names_the_people():
    boss, report = person("ana", name="Ana"), person("ben", "man", ("data analysis",), ("negotiation",),
                                                      name="Ben", manager_id="ana")
    with pytest.raises(MatchingError) as refused:
        matching.check_team({"participants": [boss, report]}, ["ana", "ben"])
    assert refused.value.rule == "manager" and "Ana is Ben's manager" in str(refused.value)


def test_a_team_chosen_by_hand_that_breaks_a_soft_rule_is_kept_and_flagged():
    chloe = person("chloe", name="Chloé", offers=("coaching",), wants=("python",))
    dev = person("dev", "man", ("data analysis",), ("coaching",), name="Dev")
    eve = person("eve", "woman", ("python",), ("negotiation",), name="Eve")
    team = matching.check_team({"participants": [chloe, dev, eve]}, ["chloe", "dev", "eve"])
    assert team.members == ("chloe", "dev", "eve") and team.origin == "assigned"
    assert [f["kind"] for f in team.flags] == ["one_sided"]
    assert "Eve gains nothing from Chloé and Dev" in team.flags[0]["message"]
