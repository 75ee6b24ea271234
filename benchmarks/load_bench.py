"""Load: 500 learners arriving within one minute through nginx and two app instances, then writing a reflection.

The deployment is the shipped one (tests/ops/deployment.py: deploy/nginx/mentoring-lab.conf, the systemd
units' ExecStart lines, deploy/mentoring-lab.env.example with WEB_WORKERS as shipped) against a PostgreSQL
server of the benchmark's own (initdb into a temporary directory, its own port and socket directory) and a
private Redis. The LMS is the test platform over https (tests/lti_platform.py), in this process.

Each learner is a browser of its own (cookies, keep-alive, the test CA): OIDC login, the LMS's authorize page,
the launch POST (answered with the landing page itself), the half-day reflection form, 2-3 autosaves of the draft (JSON with the CSRF
header, as lti_tool/static/reflection-drafts.js sends them, ~1 s apart), the submit and the list it redirects
to. Arrivals are paced evenly over ``--arrival-seconds``; a pool of ``--threads`` browsers serves them.

Every write the app acknowledged (an autosave answered 2xx, a submit answered 303) is remembered; at the end
the database must hold, for each learner, that write's text (or the text of a later write that failed after
the server may have committed it), and a submitted reflection when the submit was acknowledged.

Phase 1 runs the learners undisturbed. Phase 2 runs as many new learners and stops the PostgreSQL server
(``pg_ctl stop -m fast``) ``--outage-at`` seconds in, for ``--outage-seconds``, then starts it again. The app
is not restarted: its errors are counted before, during and after the outage.
Results: benchmarks/results/load.md and load.json (``make bench-load``).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urljoin

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.lti_platform import TestPlatform  # noqa: E402  (the loopback LMS the tests use)
from tests.ops.deployment import auto_submit_fields, csrf, deployed, make_certificates  # noqa: E402
from tests.ops.helpers import RedisServer, free_port  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
COURSE, COHORT, SESSION = "load-101", "load-lab", "d1-morning"  # a half-day reflection
TEXT_PROMPT = "learned_from_partner"
KINDS = ["login", "lms authorize", "launch + landing page", "reflection form", "autosave", "submit", "reflection list"]
NOT_THE_TOOL = {"lms authorize"}  # the test LMS in this process signs the id_token: shown, not the tool's time
TIMEOUT = 65  # seconds a browser waits; nginx gives up on an instance after 60 (proxy_read_timeout)


# --- a PostgreSQL server of our own --------------------------------------------------------------------------
def postgres_bin() -> Path:
    found = os.environ.get("PG_BIN") or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True) if (p / "initdb").exists()),
        None)
    if found is None:
        sys.exit("PostgreSQL server binaries not found (apt-get install postgresql, or set PG_BIN)")
    return Path(found)


class PrivatePostgres:
    """initdb into ``directory``, served on a free loopback port with its own socket directory. PostgreSQL
    refuses to run as root: as root, the server runs as the ``postgres`` system user (runuser)."""

    def __init__(self, directory: Path):
        self.bin = postgres_bin()
        self.dir = directory / "postgres"
        self.dir.mkdir()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, user="postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/mentoring_lab"
        self._run("initdb", "-D", str(self.dir / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        self.start()
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE mentoring_lab")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "server.log"), "-w", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", mode, "-w", "stop")


# --- one learner's browser -------------------------------------------------------------------------------------
@dataclass
class Sample:
    phase: str
    kind: str
    start: float  # seconds since the phase started
    ms: float
    status: int | None  # None: no HTTP answer (an exception)
    error: str | None


@dataclass
class Writes:
    """A learner's reflection writes in order: (text, submit?, acknowledged?)."""
    sub: str
    attempts: list[tuple[str, bool, bool]] = field(default_factory=list)


class Run:
    def __init__(self, base: str, ca: str, lms: TestPlatform, think: float):
        self.base, self.ca, self.lms, self.think = base, ca, lms, think
        self.samples: list[Sample] = []
        self.writes: dict[str, Writes] = {}
        self.lock = threading.Lock()
        self.t0 = time.monotonic()
        self.phase = ""
        self.cohort_id: int | None = None

    def _timed(self, kind: str, ok: set[int], call) -> requests.Response | None:
        start = time.monotonic()
        response, error = None, None
        try:
            response = call()
            if response.status_code not in ok:
                error = f"HTTP {response.status_code}"
        except requests.RequestException as e:
            error = type(e).__name__
        sample = Sample(self.phase, kind, round(start - self.t0, 3), (time.monotonic() - start) * 1000,
                        response.status_code if response is not None else None, error)
        with self.lock:
            self.samples.append(sample)
        return None if error else response

    def learner(self, sub: str, reflect: bool = True) -> bool:
        """One person's visit; False when a step failed and the person could not go on."""
        http = requests.Session()
        http.verify, http.trust_env = self.ca, False
        self.lms.users[sub] = {"sub": sub, "role": "learner", "name": f"Learner {sub}", "email": f"{sub}@example.com"}
        login = self._timed("login", {302}, lambda: http.get(self.base + "/lti/login", allow_redirects=False,
                                                             timeout=TIMEOUT, params={
            "iss": self.lms.issuer, "login_hint": sub, "target_link_uri": self.base + "/lti/launch",
            "lti_message_hint": f"{COURSE}|{COHORT}", "client_id": self.lms.client_id,
            "lti_deployment_id": self.lms.deployment_id, "lti1p3_new_window": "1"}))
        if login is None:
            return False
        authorize = self._timed("lms authorize", {200}, lambda: http.get(login.headers["Location"], timeout=TIMEOUT))
        if authorize is None:
            return False
        action, fields = auto_submit_fields(authorize.text)
        # The launch answers with the landing page itself (one request, as a browser sees it).
        landing = self._timed("launch + landing page", {200}, lambda: http.post(action, data=fields,
                                                                               allow_redirects=False, timeout=TIMEOUT))
        if landing is None or not reflect:
            return landing is not None
        form_url = f"{self.base}/learner/cohorts/{self.cohort_id}/reflections/{SESSION}"
        form = self._timed("reflection form", {200}, lambda: http.get(form_url, timeout=TIMEOUT))
        if form is None:
            return False
        token = csrf(form)
        with self.lock:
            writes = self.writes.setdefault(sub, Writes(sub))  # a second visit adds to the first one's
        typed = ""
        for n in range(random.choice((2, 3))):
            time.sleep(self.think)  # typing; the page's autosave waits 800 ms after the last key
            typed += f" {sub}-draft{n}-{uuid.uuid4().hex[:6]}"
            body = {"answers": {TEXT_PROMPT: typed.strip(), "gain_self": "", "gain_partner": ""},
                    "visibility": {TEXT_PROMPT: "partner"}}
            saved = self._timed("autosave", {200}, lambda body=body: http.post(
                form_url + "/draft", json=body, headers={"X-CSRFToken": token}, timeout=TIMEOUT))
            writes.attempts.append((typed.strip(), False, saved is not None))
        time.sleep(self.think)
        final = f"{typed.strip()} final-{uuid.uuid4().hex[:6]}"
        submitted = self._timed("submit", {303}, lambda: http.post(form_url, allow_redirects=False, timeout=TIMEOUT, data={
            "csrf_token": token, "action": "submit", f"a-{TEXT_PROMPT}": final, "a-gain_self": "4",
            "a-gain_partner": "3", f"v-{TEXT_PROMPT}": "partner"}))
        writes.attempts.append((final, True, submitted is not None))
        if submitted is None:
            return False
        return self._timed("reflection list", {200},
                           lambda: http.get(urljoin(self.base, submitted.headers["Location"]), timeout=TIMEOUT)) is not None


# --- phases ------------------------------------------------------------------------------------------------------
def run_phase(run: Run, name: str, subs: list[str], arrival_seconds: float, threads: int, retry_after: float,
              outage: tuple[float, float, PrivatePostgres] | None = None) -> dict:
    run.phase, run.t0 = name, time.monotonic()
    outcome: dict = {"learners": len(subs)}
    started: dict[str, float] = {}
    done: list[bool] = []
    retried: list[str] = []

    def visit(sub: str, due: float) -> None:
        started[sub] = time.monotonic() - run.t0 - due
        if run.learner(sub):
            done.append(True)
            return
        time.sleep(retry_after)  # a person who saw "unavailable for a minute" opens the lab again
        retried.append(sub)
        done.append(run.learner(sub))

    def take_down(at: float, seconds: float, pg: PrivatePostgres) -> None:
        time.sleep(max(0.0, at - (time.monotonic() - run.t0)))
        outcome["outage_start_s"] = round(time.monotonic() - run.t0, 2)
        pg.stop("fast")
        outcome["server_stopped_s"] = round(time.monotonic() - run.t0, 2)
        time.sleep(seconds)
        pg.start()
        outcome["outage_end_s"] = round(time.monotonic() - run.t0, 2)

    down = threading.Thread(target=take_down, args=outage, daemon=True) if outage else None
    if down:
        down.start()
    with ThreadPoolExecutor(threads) as pool:
        for i, sub in enumerate(subs):
            due = i * arrival_seconds / len(subs)
            time.sleep(max(0.0, due - (time.monotonic() - run.t0)))
            pool.submit(visit, sub, due)
    if down:
        down.join()
    samples = [s for s in run.samples if s.phase == name]
    landings = [s.start + s.ms / 1000 for s in samples if s.kind == "launch + landing page" and s.error is None]
    duration = time.monotonic() - run.t0
    outcome.update({
        "duration_s": round(duration, 1),
        "tool_requests_per_s": round(sum(1 for s in samples if s.kind not in NOT_THE_TOOL) / duration, 1),
        "completed": sum(done),
        "visits_retried": len(retried),
        "arrival_lag_max_s": round(max(started.values()), 2),  # a browser waiting for a free client thread
        "last_launch_landed_s": round(max(landings), 1) if landings else None,
        "launched_within_60s": sum(1 for t in landings if t <= 60),
    })
    return outcome


def table(samples: list[Sample]) -> dict[str, dict]:
    out = {}
    for kind in KINDS:
        mine = [s for s in samples if s.kind == kind]
        if not mine:
            continue
        ms = sorted(s.ms for s in mine)
        out[kind] = {"requests": len(ms), "errors": sum(1 for s in mine if s.error),
                     "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1),
                     "max_ms": round(ms[-1], 1)}
    return out


def errors_by_window(samples: list[Sample], outcome: dict) -> dict:
    """Each failed request: before the server was stopped, overlapping the outage, or started after it was back."""
    windows = {"before": Counter(), "during": Counter(), "after": Counter()}
    down, up = outcome.get("outage_start_s"), outcome.get("outage_end_s")
    for s in samples:
        if not s.error:
            continue
        end = s.start + s.ms / 1000
        window = ("before" if down is None or end < down else "after" if s.start > up else "during")
        windows[window][f"{s.kind}: {s.error}"] += 1
    return {w: dict(c) for w, c in windows.items()}


def recovery(samples: list[Sample], outcome: dict) -> dict:
    """When the last failed request ended and the first request after the outage succeeded (phase seconds)."""
    up = outcome["outage_end_s"]
    failed_ends = [s.start + s.ms / 1000 for s in samples if s.error and s.kind not in NOT_THE_TOOL]
    ok_after = [s.start + s.ms / 1000 for s in samples if not s.error and s.kind not in NOT_THE_TOOL and s.start >= up]
    return {"last_error_ended_s": round(max(failed_ends), 2) if failed_ends else None,
            "first_success_after_outage_s": round(min(ok_after), 2) if ok_after else None,
            "failed_requests": [{"kind": s.kind, "start_s": s.start, "end_s": round(s.start + s.ms / 1000, 2),
                                 "error": s.error} for s in samples if s.error]}


def lost_writes(app, writes: dict[str, Writes]) -> dict:
    """Compare every learner's last acknowledged write with what the database holds now."""
    from lti_tool.extensions import db
    from lti_tool.models import LtiUser, Participant, Reflection

    with app.app_context():
        db.engine.dispose()  # this process's own pool may hold connections from before a restart
        rows = db.session.execute(
            db.select(LtiUser.sub, Reflection.answers, Reflection.status)
            .join(Participant, Participant.user_id == LtiUser.id)
            .join(Reflection, Reflection.participant_id == Participant.id)
            .where(LtiUser.sub.in_(list(writes)), Reflection.session_id == SESSION)).all()
        db.session.remove()
    held = {sub: ((answers or {}).get(TEXT_PROMPT), str(status)) for sub, answers, status in rows}
    acknowledged = lost = 0
    examples = []
    for sub, w in writes.items():
        acked = [i for i, (_text, _submit, ok) in enumerate(w.attempts) if ok]
        if not acked:
            continue
        acknowledged += sum(1 for *_x, ok in w.attempts if ok)
        last = acked[-1]
        allowed = {text for text, _submit, _ok in w.attempts[last:]}  # the last acknowledged, or a later try
        text, status = held.get(sub, (None, "none"))
        must_be_submitted = any(submit for _text, submit, ok in w.attempts if ok)
        if text not in allowed or (must_be_submitted and "submitted" not in status.lower()):
            lost += 1
            if len(examples) < 5:
                examples.append({"learner": sub, "expected": w.attempts[last][0], "held": text, "status": status})
    return {"acknowledged_writes": acknowledged, "learners_with_acknowledged_writes":
            sum(1 for w in writes.values() if any(ok for *_x, ok in w.attempts)),
            "acknowledged_writes_lost": lost, "examples": examples}


def worker_boots(processes, ports: list[int]) -> int:
    return sum(processes.log(f"web-{p}").count("Booting worker") for p in ports)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--learners", type=int, default=500)
    ap.add_argument("--arrival-seconds", type=float, default=60)
    ap.add_argument("--threads", type=int, default=200, help="browsers at once (client threads)")
    ap.add_argument("--think", type=float, default=1.0, help="seconds of typing between two writes")
    ap.add_argument("--outage-at", type=float, default=25, help="seconds into phase 2 when PostgreSQL stops")
    ap.add_argument("--outage-seconds", type=float, default=5)
    ap.add_argument("--skip-outage", action="store_true")
    ap.add_argument("--retry-after", type=float, default=15,
                    help="a learner whose visit failed opens the lab again after this many seconds (once)")
    ap.add_argument("--out", default="load", help="results file stem in benchmarks/results/")
    ap.add_argument("--keep-logs", type=Path, help="copy the servers' logs here at the end")
    args = ap.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the test LMS's access log
    RESULTS.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()
    report: dict = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cores": os.cpu_count(),
                    "load_average_1min_start": round(load_start[0], 2), "settings": vars(args)}
    with tempfile.TemporaryDirectory(prefix="load_bench_") as d:
        tmp = Path(d)
        os.chmod(tmp, 0o755)
        pg = PrivatePostgres(tmp)
        redis = RedisServer().start()
        certs = make_certificates(tmp)
        lms = TestPlatform(client_id="load-client", ssl_context=(certs["cert"], certs["key"]))
        try:
            (tmp / "deploy").mkdir()
            with deployed(tmp / "deploy", database_url=pg.url, redis_url=redis.url, lms=lms, certs=certs) as running:
                report["web_workers_per_instance"] = int(running["env"]["WEB_WORKERS"])
                report.update(benchmark(args, pg, running, lms, certs))
        finally:
            if args.keep_logs:
                shutil.copytree(tmp, args.keep_logs, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("data", "*.pem", "*.key", ".s.PGSQL*", "run", "tmp"))
            lms.close()
            redis.stop()
            try:
                pg.stop("fast")
            except subprocess.CalledProcessError:
                pass  # already down
    report["load_average_1min_end"] = round(os.getloadavg()[0], 2)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(report, indent=2, default=str))
    render(report, RESULTS / f"{args.out}.md")
    print((RESULTS / f"{args.out}.md").read_text())


def benchmark(args, pg: PrivatePostgres, running: dict, lms: TestPlatform, certs: dict) -> dict:
    from lti_tool import create_app
    from tests.reflections.helpers import lab_held

    os.environ["REQUESTS_CA_BUNDLE"] = certs["ca"]
    app = create_app("config.settings.TestingConfig",
                     SQLALCHEMY_DATABASE_URI=pg.url.replace("postgresql://", "postgresql+psycopg://", 1))
    run = Run(running["base"], certs["ca"], lms, args.think)
    # the cohort is made by its first launch; then its lab days lie behind it and its teams are published
    assert run.learner("load-setup", reflect=False), f"the setup launch failed: {run.samples}"
    lab_held(app)
    with app.app_context():
        from lti_tool.extensions import db
        from lti_tool.models import Cohort
        run.cohort_id = db.session.execute(db.select(Cohort.id).where(Cohort.slug == COHORT)).scalar_one()
        db.session.remove()
    for i in range(8):  # warm every worker of both instances (imports, key fetch, pools) before measuring
        run.learner(f"load-warmup-{i}")
    run.samples.clear()
    run.writes.clear()
    processes, ports = running["processes"], running["web_ports"]
    boots = worker_boots(processes, ports)
    out: dict = {"phases": {}}

    subs = [f"load1-learner-{i}" for i in range(args.learners)]
    outcome = run_phase(run, "steady", subs, args.arrival_seconds, args.threads, args.retry_after)
    samples = [s for s in run.samples if s.phase == "steady"]
    outcome.update(table=table(samples), errors=errors_by_window(samples, {})["before"],
                   writes=lost_writes(app, {s: run.writes[s] for s in subs if s in run.writes}))
    out["phases"]["steady"] = outcome
    print(json.dumps({k: v for k, v in outcome.items() if k != "table"}, indent=1), flush=True)

    if not args.skip_outage:
        subs = [f"load2-learner-{i}" for i in range(args.learners)]
        outcome = run_phase(run, "postgres restart", subs, args.arrival_seconds, args.threads, args.retry_after,
                            outage=(args.outage_at, args.outage_seconds, pg))
        samples = [s for s in run.samples if s.phase == "postgres restart"]
        processes.check_alive()  # the instances, the worker and nginx were not restarted
        ready = {p: requests.get(f"http://127.0.0.1:{p}/readyz", timeout=10).status_code for p in ports}
        # after the outage, every instance answers again: one more visit each way round through nginx
        run.phase = "after"
        after = [run.learner(f"load2-after-{i}") for i in range(4)]
        late = [s for s in run.samples if s.phase == "after"]
        outcome.update(table=table(samples), errors=errors_by_window(samples, outcome), **recovery(samples, outcome),
                       writes=lost_writes(app, {s: run.writes[s] for s in subs if s in run.writes}),
                       readyz_after=ready, visits_after_outage_ok=f"{sum(after)} of {len(after)}",
                       visits_after_outage_errors=dict(Counter(f"{s.kind}: {s.error}" for s in late if s.error)),
                       worker_processes_restarted=worker_boots(processes, ports) - boots,
                       app_processes_alive=True)
        out["phases"]["postgres restart"] = outcome
        print(json.dumps({k: v for k, v in outcome.items() if k not in ("table", "failed_requests")}, indent=1),
              flush=True)
    with app.app_context():
        from lti_tool.extensions import db
        db.engine.dispose()
    return out


def render(report: dict, path: Path) -> None:
    s = report["settings"]
    lines = [
        "# Load: learners arriving through nginx and two app instances, then writing a reflection", "",
        f"{report['date']}. Generated by `benchmarks/load_bench.py` (`make bench-load`). Machine: {report['cores']} "
        f"cores, **shared with other work**: 1-minute load average {report['load_average_1min_start']} at the start, "
        f"{report['load_average_1min_end']} at the end. The client (up to {s['threads']} browsers as threads), the "
        "test LMS, nginx, both app instances, the worker, Redis and PostgreSQL all run on this machine.", "",
        f"Deployment as shipped: nginx (deploy/nginx/mentoring-lab.conf, TLS), two gunicorn instances with "
        f"{report.get('web_workers_per_instance')} sync workers each (WEB_WORKERS of the example env file), the RQ "
        "worker, a private Redis and a private PostgreSQL 15 server (fsync on). Each learner: OIDC login, the LMS's "
        "authorize page (the test LMS in the benchmark's process, not the tool), launch (answered with the landing page itself), the half-day "
        f"reflection form, 2-3 autosaves {s['think']} s apart, submit, the list it redirects to. "
        f"{s['learners']} learners per phase, arrivals paced evenly over {s['arrival_seconds']:g} s.", ""]
    for name, p in report["phases"].items():
        lines += [f"## Phase: {name}", "",
                  f"* {p['learners']} learners, {p['completed']} completed every step (visits that failed and "
                  f"were opened again {s['retry_after']:g} s later: {p['visits_retried']}); the phase took "
                  f"{p['duration_s']} s ({p['tool_requests_per_s']} requests/s to the tool).",
                  f"* landing pages answered within 60 s of the first arrival (retries included): "
                  f"{p['launched_within_60s']}; the last "
                  f"landing page at {p['last_launch_landed_s']} s; longest wait of an arrival for a free client "
                  f"thread: {p['arrival_lag_max_s']} s.",
                  f"* acknowledged writes: {p['writes']['acknowledged_writes']} (by "
                  f"{p['writes']['learners_with_acknowledged_writes']} learners); **acknowledged writes lost: "
                  f"{p['writes']['acknowledged_writes_lost']}**."]
        if p["writes"]["examples"]:
            lines.append(f"* lost, e.g.: `{json.dumps(p['writes']['examples'])}`")
        if "outage_start_s" in p:
            lines += [f"* PostgreSQL stopped at {p['outage_start_s']} s (`pg_ctl stop -m fast`, down at "
                      f"{p['server_stopped_s']} s), started again, accepting at {p['outage_end_s']} s; the app was "
                      f"not restarted (gunicorn workers re-booted: {p['worker_processes_restarted']}; /readyz of the "
                      f"instances afterwards: {p['readyz_after']}; visits after the outage: "
                      f"{p['visits_after_outage_ok']} completed"
                      + (f", errors {p['visits_after_outage_errors']}" if p["visits_after_outage_errors"] else "")
                      + ")."]
            lines.append(f"* the last failed request ended at {p['last_error_ended_s']} s; the first request "
                         f"started after the database was back succeeded at {p['first_success_after_outage_s']} s "
                         "(every failed request with its times: load.json).")
            for window in ("before", "during", "after"):
                errs = p["errors"][window]
                lines.append(f"* errors {window} the outage: {sum(errs.values())}"
                             + (f" ({', '.join(f'{k} x{v}' for k, v in sorted(errs.items()))})" if errs else ""))
        else:
            errs = p["errors"]
            lines.append(f"* errors: {sum(errs.values())}"
                         + (f" ({', '.join(f'{k} x{v}' for k, v in sorted(errs.items()))})" if errs else ""))
        lines += ["", "| request | count | errors | p50 ms | p95 ms | max ms |", "|---|---|---|---|---|---|"]
        for kind, r in p["table"].items():
            label = f"{kind} (test LMS)" if kind in NOT_THE_TOOL else kind
            lines.append(f"| {label} | {r['requests']} | {r['errors']} | {r['p50_ms']} | {r['p95_ms']} | "
                         f"{r['max_ms']} |")
        lines.append("")
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
