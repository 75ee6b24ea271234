"""Enterprise data size: 50,000 learners, 3,000 cohorts, 1,000,000 reflections on a fresh PostgreSQL.

Creates a database, applies the real migrations, registers the loopback test LMS, seeds it with
``flask --app lti_tool bench seed`` (timed), then launches as learners, a facilitator and an L&D
administrator through the test LMS and times each page in process (Flask test client: server time
to render, no network): learner home, cohort page, matching (proposal review) page, progress page,
insights overview. CSV exports are downloaded as a stream while a thread samples this process's
resident memory. Writes benchmarks/results/data_size.md (``--label`` names the run, e.g. before /
after an index) and drops the database (``--keep`` keeps it and prints its URL).

Smaller runs for trying things: ``--learners 5000 --cohorts 300 --reflections 100000``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RESULTS = ROOT / "benchmarks" / "results"
TARGET_MS = 300
RUNS = 30
INSIGHTS_RUNS = RUNS  # the page kept under the deployment's insights version: one query per request
INSIGHTS_EXPORTS = ("by_cohort", "by_department", "trend", "funnel")


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def p95(values: list[float]) -> float:
    values = sorted(values)
    return values[int(0.95 * (len(values) - 1))]


def timed(client, url: str, queries: dict) -> tuple[float, int, float]:
    """Wall milliseconds, SQL statements, and this process's CPU milliseconds (less sensitive to load)."""
    before = queries["n"]
    t, cpu = time.perf_counter(), time.process_time()
    r = client.get(url)
    ms, cpu_ms = (time.perf_counter() - t) * 1000, (time.process_time() - cpu) * 1000
    assert r.status_code == 200, (url, r.status_code, r.get_data(as_text=True)[:300])
    return ms, queries["n"] - before, cpu_ms


def streamed_download(client, url: str) -> dict:
    """Download ``url`` chunk by chunk (never holding the body) while sampling this process's RSS."""
    base, peak, stop = rss_kib(), [rss_kib()], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kib())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t = time.perf_counter()
    r = client.get(url, buffered=False)
    assert r.status_code == 200, (url, r.status_code)
    size = lines = 0
    for chunk in r.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    r.close()
    ms = (time.perf_counter() - t) * 1000
    stop.set()
    sampler.join()
    return {"url": url, "bytes": size, "lines": lines, "ms": round(ms), "rss_before_mib": round(base / 1024, 1),
            "rss_peak_mib": round(peak[0] / 1024, 1), "rss_growth_mib": round((peak[0] - base) / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--learners", type=int, default=50_000)
    ap.add_argument("--cohorts", type=int, default=3_000)
    ap.add_argument("--reflections", type=int, default=1_000_000)
    ap.add_argument("--label", default="current")
    ap.add_argument("--database", default=None, help="Use this already seeded database (name) instead of a new one.")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--skip-pages", action="store_true", help="Only the downloads.")
    ap.add_argument("--skip-insights", action="store_true",
                    help="Leave out the insights page and export (minutes per request at full size).")
    ap.add_argument("--seed-seconds", type=float, default=None, help="With --database: how long its seeding took.")
    args = ap.parse_args()

    from tests.lti_platform import Launcher, TestPlatform

    name = args.database or f"rml_bench_size_{uuid.uuid4().hex[:8]}"
    server = PG_ADMIN.rsplit("/", 1)[0]
    lms = TestPlatform()
    env = {**os.environ, "DATABASE_URL": f"{server}/{name}", "SECRET_KEY": "bench", "LAB_ENV": "development",
           "PUBLIC_BASE_URL": "https://tool.test"}
    env.pop("REDIS_URL", None)  # the commands below only write the database (development: the LMS is on http)
    env.pop("LTI_DEV_PLATFORM", None)
    flask = [sys.executable, "-m", "flask", "--app", "lti_tool"]
    seed_s = None
    if not args.database:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        if not args.database:
            subprocess.run([*flask, "db", "upgrade"], env=env, check=True, cwd=ROOT, capture_output=True)
        if not args.database:
            subprocess.run([*flask, "platform", "add", "--issuer", lms.issuer, "--client-id", lms.client_id,
                            "--deployment-id", lms.deployment_id, "--auth-login-url", lms.issuer + "/auth",
                            "--auth-token-url", lms.issuer + "/token", "--jwks-url", lms.issuer + "/jwks"],
                           env=env, check=True, cwd=ROOT, capture_output=True)
            t = time.perf_counter()
            seeded = subprocess.run([*flask, "bench", "seed", "--learners", str(args.learners), "--cohorts",
                                     str(args.cohorts), "--reflections", str(args.reflections)],
                                    env=env, check=True, cwd=ROOT, capture_output=True, text=True)
            seed_s = time.perf_counter() - t
            print(seeded.stdout.strip(), f"({seed_s:.0f} s)", flush=True)
            with psycopg.connect(f"{server}/{name}", autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
        results = measure(name, server, lms, Launcher, reuse=bool(args.database), pages_too=not args.skip_pages,
                          insights=not args.skip_insights)
        seed_s = seed_s or args.seed_seconds
        results["seed_s"] = round(seed_s, 1) if seed_s else None
        results["size"] = {"learners": args.learners, "cohorts": args.cohorts, "reflections": args.reflections}
        write(args.label, results)
    finally:
        lms.close()
        if args.keep or args.database:
            print(f"database kept: {server}/{name}")
        else:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(name: str, server: str, lms, Launcher, reuse: bool = False, pages_too: bool = True,
            insights: bool = True) -> dict:
    from sqlalchemy import event

    from lti_tool import create_app
    from lti_tool.extensions import db
    from lti_tool.models import Cohort, Course, MatchRun
    from lti_tool.services import insights as insights_service
    from tests.conftest import https_client

    load_start = os.getloadavg()[0]
    url = f"{server}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app("config.settings.TestingConfig", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        engine = db.engine
        course = db.session.execute(db.select(Course).where(Course.context_id == "bench-enterprise")
                                    .order_by(Course.id)).scalars().first()
        if reuse:  # a database seeded by an earlier run: its platform is now this run's test LMS
            platform = course.deployment.platform
            platform.issuer, platform.auth_login_url = lms.issuer, lms.issuer + "/auth"
            platform.auth_token_url, platform.jwks_url = lms.issuer + "/token", lms.issuer + "/jwks"
            db.session.commit()
        cohorts = db.session.execute(db.select(Cohort.id, Cohort.published_run_id)
                                     .where(Cohort.course_id == course.id).order_by(Cohort.id)).all()
        n_people = db.session.execute(db.select(db.func.count()).select_from(db.metadata.tables["participant"])
                                      ).scalar_one()
    queries = {"n": 0}

    def count(*_a, **_k):
        queries["n"] += 1

    event.listen(engine, "before_cursor_execute", count)

    def launched(**token):
        from tests.lti_platform import landing_path

        client = https_client(app)
        r = Launcher(client, lms)(context_id="bench-enterprise", resource_link_id="bench-page", **token)
        # The launch answers with the landing page itself; the page names its own address.
        home = landing_path(r.get_data(as_text=True)) if r.status_code == 200 else None
        assert home, r.get_data(as_text=True)[:300]
        return client, home

    pages: dict[str, dict] = {}

    def run(page: str, samples: list[tuple[float, int]]):
        times = [s[0] for s in samples]
        pages[page] = {"median_ms": round(statistics.median(times), 1), "p95_ms": round(p95(times), 1),
                       "max_ms": round(max(times), 1), "queries": max(s[1] for s in samples), "n": len(samples),
                       "cpu_median_ms": round(statistics.median(s[2] for s in samples), 1)}
        print(page, pages[page], flush=True)

    if pages_too:
        # Learner home: RUNS different learners spread over the course, each page after a warm-up request.
        samples = []
        step = max(1, n_people // RUNS)
        for i in range(RUNS):
            client, home = launched(sub=f"bench-learner-{i * step}", role="learner", name=f"Learner {i * step}")
            client.get(home)
            samples.append(timed(client, home, queries))
        run("learner home", samples)

        fac, _ = launched(sub="bench-facilitator", role="instructor", name="Fran Facilitator")
        picks = [cohorts[k * len(cohorts) // RUNS] for k in range(RUNS)]
        for page, path in (("cohort page", "/facilitator/cohorts/{c}"),
                           ("matching page", "/facilitator/cohorts/{c}/match/{r}"),
                           ("progress page", "/facilitator/cohorts/{c}/progress")):
            fac.get(path.format(c=picks[0][0], r=picks[0][1]))
            run(page, [timed(fac, path.format(c=c, r=r), queries) for c, r in picks])
        with app.app_context():
            assert db.session.get(MatchRun, picks[0][1]) is not None

    lnd, _ = launched(sub="bench-lnd", role="lnd", name="Lee Development")
    if insights:
        # the first request after start reads the deployment and audits the page; the next ones reuse it
        run("insights overview (first request: read and audit)", [timed(lnd, "/insights/", queries)])
        run("insights overview (kept between requests)",
            [timed(lnd, "/insights/", queries) for _ in range(INSIGHTS_RUNS)])
        insights_service.forget_kept(app)  # as after a data change: nothing kept
        run("insights overview (rebuilt after a data change)", [timed(lnd, "/insights/", queries)])
    event.remove(engine, "before_cursor_execute", count)

    downloads = [streamed_download(lnd, "/insights/audit.csv")]
    if insights:
        downloads[:0] = [streamed_download(lnd, f"/insights/export/{key}.csv") for key in INSIGHTS_EXPORTS]
    for d in downloads:
        print(d, flush=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return {"pages": pages, "downloads": downloads, "load": os.getloadavg()[0], "load_start": load_start,
            "cpus": os.cpu_count(), "date": datetime.now().isoformat(timespec="minutes")}


NOTES = """
## Reading these numbers

* The machine was shared with other test runs (1-minute load average 10-20 on 2 cores), so a single
  primary-key lookup took 10-60 ms instead of well under 1 ms: wall times here are mostly queueing for
  the CPU. The SQL statement count and the CPU column are the figures that compare between runs.
* No index was added: EXPLAIN ANALYZE on the seeded database shows every page query using an existing
  index (participant.user_id, team_member.participant_id, team.cohort_id, reflection.participant_id,
  calendar_event.cohort_id, ...) and executing in under 1 ms. What grew with the data was the number of
  queries per page (one per team or per person), fixed in the code: the cohort page's follow-up
  overview and the follow-up series read the cohort's people, event rows and moved meetings once
  instead of once per team; the progress page loads people's names with the people (on main it had gone
  back to one user lookup per learner: 23 statements for a cohort of 17, now 7).
* "after: insights tally, ...": the four pages meet the target at load 13-16. The cohort page's 44-45
  statements do not grow with the data (its panels read the same cohort's people and teams again, about
  20 small indexed reads that could be shared), only with nothing: 60 ms of CPU.
* Insights, before: every request read and aggregated all 1,000,000 reflections (about 4 s of SQL at a
  tenth of this size), then audited the page with a dense Gram matrix of every figure (3,000 cohorts x 81
  months: 553 s and 1.6 GB for one request measured in a profile, 127 s of it CPU; earlier runs never
  finished). Now: (1) `insight_tally`, submitted reflections per person and month kept at every commit
  (250,394 rows, 27 MB, for 1,000,000 reflections; the migration fills it in 12 s at this size, the seed
  rebuilds it at its end); (2) `deployment.insights_version`, renewed at every commit that changes what
  insights read, under which each process keeps the data, the audited page and the rendered HTML (kept
  requests: 2 SQL statements, 5 ms of CPU); (3) the audit solved block by block (per cohort, with the
  few cross-cohort figures handled once), same answers as the dense rank test. A first run of this
  section (16:15, fresh seed, load 16 then 6) kept only the figures: median 180 ms, p95 720 ms and 178 ms
  of CPU per request, all of it rendering 3,000 cohort rows and their charts (a 3.5 MB page), hence (2)
  keeps the rendered HTML as well; the table above is the same database measured again at 16:22.
* "2026-12-03: after dropping …" (a quiet machine, load about 1; seeding took 101 s): migration
  a1d5e7c3b9f4 dropped 15 single-column indexes whose column leads a two-column unique key (among them
  reflection.participant_id, participant.cohort_id and team_member.team_id: the unique keys
  (participant_id, session_id), (cohort_id, user_id) and (team_id, participant_id) serve those lookups).
  The four pages' CPU per request is the same or lower than on 2026-12-02 (learner home 24.3 ms, cohort
  page 45.5, matching 7.2, progress 14.0) and their p95 is 11-79 ms. The cohort page's 48 statements
  (45 then) come from features added since, not from the schema. The insights rebuild after a data change
  still costs about 13 s of CPU, as noted below.
* Not solved: the first request after any change of the data (a reflection submitted, someone joining)
  reads the deployment again and re-runs the audit: 12 statements and about 14 s of CPU at this size
  (41-49 s of wall time at load 13), so with learners active the L&D page will often be that slow. A
  filtered page is computed on first request from the kept data (measured once: three cohorts 0.3 s,
  one department 2.3 s at load ~10). Keeping the deployment costs memory: the process held 483 MiB
  after insights against 126 MiB in the audit-CSV-only run (about 350 MiB per process at this size;
  about 675 MiB at the peak of a rebuild).
* The audit log CSV is streamed from a server-side cursor in batches (memory bounded whatever its
  length: no growth above); the insights CSV exports are aggregate tables (one row per cohort,
  department or month) served from the kept page.
"""


def write(label: str, results: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    store = RESULTS / "data_size.json"
    runs = json.loads(store.read_text()) if store.exists() else {}
    runs[label] = results
    store.write_text(json.dumps(runs, indent=2))
    size = results["size"]
    lines = ["# Enterprise data size benchmark", "",
             f"PostgreSQL (fresh database, real migrations), one course seeded by `flask --app lti_tool bench seed` "
             f"with {size['learners']:,} learners, {size['cohorts']:,} cohorts and {size['reflections']:,} submitted "
             "reflections (plus memberships, published proposals and teams, attendance, calendar events and an "
             "audit log). Each page is requested "
             f"{RUNS} times in process (Flask test client: server time, no network) after a warm-up request; learner "
             "home for 30 different learners, facilitator pages for 30 cohorts spread over the course. "
             f"Target: p95 < {TARGET_MS} ms. Generated by `benchmarks/data_size_bench.py`.", ""]
    for name, r in runs.items():
        seed = f", seeding took {r['seed_s']:.0f} s" if r.get("seed_s") else ""
        load = f"load {r['load_start']:.1f} at the start, {r['load']:.1f} at the end" if "load_start" in r else \
            f"load {r['load']:.1f}"
        lines += [f"## {name}", "", f"{r['date']}, {r['cpus']} cores, {load} (1-minute average){seed}.", "",
                  "| page | median ms | p95 ms | max ms | SQL queries | CPU ms (median) | p95 < 300 ms |",
                  "|---|---|---|---|---|---|---|"]
        for page, p in r["pages"].items():
            lines.append(f"| {page} | {p['median_ms']} | {p['p95_ms']} | {p['max_ms']} | {p['queries']} | "
                         f"{p.get('cpu_median_ms', '-')} | {'yes' if p['p95_ms'] < TARGET_MS else 'NO'} |")
        lines += ["", "| CSV download (streamed) | rows | size | time | RSS before | RSS peak | growth |",
                  "|---|---|---|---|---|---|---|"]
        for d in r["downloads"]:
            lines.append(f"| `{d['url']}` | {d['lines'] - 1:,} | {d['bytes'] / 1e6:.1f} MB | {d['ms']} ms | "
                         f"{d['rss_before_mib']} MiB | {d['rss_peak_mib']} MiB | {d['rss_growth_mib']} MiB |")
        lines.append("")
    (RESULTS / "data_size.md").write_text("\n".join(lines) + NOTES)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
