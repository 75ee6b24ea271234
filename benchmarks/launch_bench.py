"""Login + launch benchmark against gunicorn (4 workers) and a fresh PostgreSQL database.

Each measured launch is what a learner's browser does: OIDC login initiation, the signed
id_token posted to /lti/launch, and the landing page rendered. It runs once with launch data
in the database and once in Redis, then writes benchmarks/results/launch.md (and .json).
"""
from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.lti_platform import TestPlatform  # noqa: E402  (the same loopback LMS the tests use)

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
WORKERS = 4
SEQUENTIAL = 200
CONCURRENT = 400
THREADS = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_launch(base: str, lms: TestPlatform, i: int) -> float:
    """Milliseconds the tool spends on one launch (the platform's token signing is not counted)."""
    http = requests.Session()
    headers = {"X-Forwarded-Proto": "https"}  # as behind the TLS proxy: Secure, SameSite=None cookies
    start = time.perf_counter()
    r = http.get(base + "/lti/login", headers=headers, allow_redirects=False, params={
        "iss": lms.issuer, "login_hint": f"u{i}", "target_link_uri": base + "/lti/launch",
        "client_id": lms.client_id, "lti_deployment_id": lms.deployment_id, "lti1p3_new_window": "1"})
    assert r.status_code == 302, r.text[:300]
    params = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}
    login_ms = (time.perf_counter() - start) * 1000
    token = lms.id_token(params["nonce"], sub=f"learner-{i}", name=f"Learner {i}", email=f"l{i}@example.com")
    start = time.perf_counter()
    # requests drops Secure cookies on http://, so hand them over explicitly, as a browser on https would.
    cookies = {c.name: c.value for c in http.cookies}
    r = http.post(base + "/lti/launch", headers=headers, cookies=cookies, allow_redirects=False,
                  data={"id_token": token, "state": params["state"]})
    assert r.status_code == 303, r.text[:300]
    cookies = {**cookies, **{c.name: c.value for c in r.cookies}}
    r = http.get(base + r.headers["Location"], headers=headers, cookies=cookies)
    assert r.status_code == 200 and "Welcome" in r.text, r.text[:300]
    return login_ms + (time.perf_counter() - start) * 1000


def run(redis: bool) -> dict:
    name = f"rml_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    lms = TestPlatform()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}",
           "SECRET_KEY": uuid.uuid4().hex, "PUBLIC_BASE_URL": base, "LAB_ENV": "production"}
    env.pop("LTI_DEV_PLATFORM", None)
    if redis:
        env["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    else:
        env.pop("REDIS_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "lti_tool"]
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True, cwd=ROOT, capture_output=True)
    subprocess.run([*flask, "platform", "add", "--issuer", lms.issuer, "--client-id", lms.client_id,
                    "--deployment-id", lms.deployment_id, "--auth-login-url", lms.issuer + "/auth",
                    "--auth-token-url", lms.issuer + "/token", "--jwks-url", lms.issuer + "/jwks"],
                   env=env, check=True, cwd=ROOT, capture_output=True)
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--bind",
                               f"127.0.0.1:{port}", "lti_tool:create_app()"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                if requests.get(base + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        for i in range(20):  # warm every worker (imports, first key fetch, connection pools)
            one_launch(base, lms, 10_000 + i)
        sequential = [one_launch(base, lms, i) for i in range(SEQUENTIAL)]
        start = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            concurrent = list(pool.map(lambda i: one_launch(base, lms, 20_000 + i), range(CONCURRENT)))
        elapsed = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(10)
        lms.close()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    q = statistics.quantiles
    return {
        "launch_data": "redis" if redis else "postgresql",
        "sequential_median_ms": round(statistics.median(sequential), 1),
        "sequential_p95_ms": round(q(sequential, n=20)[18], 1),
        "concurrent_median_ms": round(statistics.median(concurrent), 1),
        "concurrent_p95_ms": round(q(concurrent, n=20)[18], 1),
        "launches_per_second": round(CONCURRENT / elapsed, 1),
        "jwks_fetches": lms.jwks_fetches,
    }


def main() -> None:
    results = [run(redis=False), run(redis=True)]
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    meta = {"date": time.strftime("%Y-%m-%d"), "workers": WORKERS, "sequential": SEQUENTIAL,
            "concurrent": CONCURRENT, "threads": THREADS, "cpus": os.cpu_count()}
    (out / "launch.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    lines = [
        "# Login + launch benchmark",
        "",
        f"{meta['date']}, gunicorn {WORKERS} workers on {meta['cpus']} cores, fresh PostgreSQL database, "
        "platform keys cached. One launch = OIDC login initiation + signed id_token POST + landing page render.",
        f"Sequential: {SEQUENTIAL} launches one after another; concurrent: {CONCURRENT} launches from {THREADS} "
        "client threads (the client shares the 2 cores with the server). Target: p95 under 50 ms.",
        "",
        "| launch data in | median ms | p95 ms | concurrent median ms | concurrent p95 ms | launches/s | JWKS fetches |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r['launch_data']} | {r['sequential_median_ms']} | {r['sequential_p95_ms']} | "
                     f"{r['concurrent_median_ms']} | {r['concurrent_p95_ms']} | {r['launches_per_second']} | "
                     f"{r['jwks_fetches']} |")
    (out / "launch.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
