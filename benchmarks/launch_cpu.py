"""CPU time the product spends per launch (OIDC login + launch + landing page), in process.

Wall time on a shared machine says little; process CPU time (``time.process_time``) around the three
requests does not depend on what else runs. The app runs with the production configuration on a fresh
PostgreSQL database (and, with ``--redis``, a Redis server of its own), the LMS is the loopback test
platform over https; the LMS's token signing is left out of the figure. ``--cprofile N`` prints the N
functions with the most own time and the N with the most cumulative time.

    .venv/bin/python benchmarks/launch_cpu.py [--runs 100] [--repeat 3] [--redis] [--cprofile 40]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--redis", action="store_true")
    ap.add_argument("--cprofile", type=int, default=0)
    ap.add_argument("--dump", help="Also write the cProfile statistics to this file (pstats format).")
    args = ap.parse_args()

    from tests.lti_platform import TestPlatform
    from tests.ops.deployment import make_certificates
    from tests.ops.helpers import RedisServer

    tmp = Path(tempfile.mkdtemp())
    certs = make_certificates(tmp)
    name = f"rml_cpu_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    redis = RedisServer().start() if args.redis else None
    os.environ.update(SECRET_KEY=uuid.uuid4().hex, LAB_ENV="production", PUBLIC_BASE_URL="https://tool.test",
                      DATABASE_URL=f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", OUTBOUND_ALLOWED_NETWORKS="127.0.0.0/8",
                      REQUESTS_CA_BUNDLE=certs["ca"])
    for key in ("LTI_DEV_PLATFORM", "REDIS_URL", "LTI_ALLOW_HTTP", "OUTBOUND_ALLOW_PRIVATE_NETWORKS"):
        os.environ.pop(key, None)
    if redis:
        os.environ["REDIS_URL"] = redis.url
    lms = TestPlatform(ssl_context=(certs["cert"], certs["key"]))
    try:
        from flask_migrate import upgrade

        from lti_tool import create_app
        from lti_tool.extensions import db
        from lti_tool.lti.registration import save_platform
        from tests.conftest import https_client

        app = create_app()
        with app.app_context():
            upgrade()
            save_platform(**lms.registration_args())
        counter = iter(range(10**9))

        def launch() -> float:
            """CPU seconds of one browser's login + launch + landing page (token signing excluded)."""
            i = next(counter)
            client = https_client(app)
            cpu = time.process_time()
            r = client.get("/lti/login", query_string={
                "iss": lms.issuer, "login_hint": f"u{i}", "target_link_uri": "https://tool.test/lti/launch",
                "client_id": lms.client_id, "lti_deployment_id": lms.deployment_id, "lti1p3_new_window": "1"})
            assert r.status_code == 302, r.get_data(as_text=True)[:300]
            params = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}
            spent = time.process_time() - cpu
            token = lms.id_token(params["nonce"], sub=f"learner-{i}", name=f"Learner {i}", email=f"l{i}@example.com")
            cpu = time.process_time()
            r = client.post("/lti/launch", data={"id_token": token, "state": params["state"]})
            if r.status_code == 303:  # older code redirected to the landing page
                r = client.get(r.headers["Location"])
            assert r.status_code == 200 and "Welcome" in r.get_data(as_text=True)
            return spent + time.process_time() - cpu

        for _ in range(20):  # imports, first key fetch, pool, template compilation
            launch()
        per_run = []
        for _ in range(args.repeat):
            per_run.append(1000 * statistics.fmean(launch() for _ in range(args.runs)))
        print(f"{'Redis' if redis else 'no Redis'}: CPU ms per login+launch+landing over {args.runs} launches, "
              f"{args.repeat} repetitions: {', '.join(f'{x:.1f}' for x in per_run)} "
              f"(median {statistics.median(per_run):.1f}); load {os.getloadavg()[0]:.1f}")
        if args.cprofile:
            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
            for _ in range(args.runs):
                launch()
            profiler.disable()
            if args.dump:
                profiler.dump_stats(args.dump)
            for order in ("tottime", "cumulative"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.cprofile)
                print(out.getvalue())
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        lms.close()
        if redis:
            redis.stop()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
