"""Two app instances (gunicorn) behind nginx with TLS, an RQ worker, PostgreSQL and Redis — started from the
files in deploy/, so the shipped configuration is what is tested.

nginx runs deploy/nginx/mentoring-lab.conf with loopback ports and a test certificate; the instances, the
worker and the migration run the ExecStart lines of deploy/systemd/*.service with the settings of
deploy/mentoring-lab.env.example (secrets, addresses and ports replaced). The LMS is the test platform over
https with the same test CA (REQUESTS_CA_BUNDLE), and the app runs its production configuration.

Through nginx: launches whose OIDC login one instance answers and whose launch POST the other answers (shown by
the request ids in each instance's JSON log), then a facilitator's cohort, roster sync, proposal, publication and
invites, with every background job run by the worker. Then a key rotation that both instances agree on at once.
"""
from __future__ import annotations

import json
import re
import subprocess
import uuid

import pytest
import requests
from aiosmtpd.handlers import Message

from tests.conftest import ON_CI, PG_ADMIN_URL, _pg_admin
from tests.facilitator.test_cohorts_and_roster import cohort_data
from tests.lti_platform import REPLACE_STATE, ROLE, TestPlatform
from tests.ops.deployment import DEPLOY, ROOT, Unit, auto_submit_fields, csrf, deployed, make_certificates, need
from tests.ops.helpers import RedisServer, free_port, wait_until

LEARNERS = [("ana", "woman", "Sales", "negotiation", "data analysis"), ("ben", "man", "IT", "data analysis", "negotiation"),
            ("cleo", "woman", "HR", "coaching", "python"), ("dan", "man", "IT", "python", "coaching")]
COURSE = "scale-101"


class Inbox(Message):
    """An SMTP server's mailbox (aiosmtpd parses each message)."""

    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


class Page:
    """A requests response seen through the Flask-response method the shared form helpers use."""

    def __init__(self, response: requests.Response):
        self.response = response

    def get_data(self, as_text=True):
        return self.response.text


# --- the deployment ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    need("redis-server")
    import psycopg

    directory = tmp_path_factory.mktemp("scale_out")
    database = f"rml_scale_{uuid.uuid4().hex[:10]}"
    try:
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
    except psycopg.OperationalError as e:
        if ON_CI:
            pytest.fail(f"PostgreSQL unreachable: {e}")
        pytest.skip(f"PostgreSQL unreachable: {e}")
    redis = RedisServer().start()
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    certs = make_certificates(directory)
    lms = TestPlatform(client_id="scale-client", ssl_context=(certs["cert"], certs["key"]))
    try:
        with deployed(directory, database_url=f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{database}", redis_url=redis.url,
                      lms=lms, certs=certs,
                      settings={"WEB_WORKERS": "2", "SMTP_URL": f"smtp://127.0.0.1:{smtp.port}"}) as running:
            yield {**running, "lms": lms, "inbox": inbox, "certs": certs, "redis": redis}
    finally:
        lms.close()
        smtp.stop()
        redis.stop()
        with _pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


class Browser:
    """A person's browser: cookies, the test CA, and the LMS's OIDC round trip."""

    def __init__(self, deployment, user: str, role: str):
        self.d = deployment
        self.user = user
        self.session = requests.Session()
        self.session.verify = deployment["certs"]["ca"]
        self.session.trust_env = False  # a CA bundle named in the environment would override the test CA
        deployment["lms"].users[user] = {"sub": user, "role": role, "name": user.capitalize(),
                                         "email": f"{user}@example.com"}

    def url(self, path: str) -> str:
        return self.d["base"] + path

    def launch(self) -> dict[str, str]:
        """Open the lab from the course; returns the request ids of the login and of the launch POST."""
        lms = self.d["lms"]
        login = self.session.get(self.url("/lti/login"), allow_redirects=False, timeout=20, params={
            "iss": lms.issuer, "login_hint": self.user, "target_link_uri": self.url("/lti/launch"),
            "lti_message_hint": f"{COURSE}|", "client_id": lms.client_id, "lti_deployment_id": lms.deployment_id,
            "lti1p3_new_window": "1"})
        assert login.status_code == 302, login.text[:500]
        authorize = self.session.get(login.headers["Location"], timeout=20)
        action, fields = auto_submit_fields(authorize.text)
        assert action == self.url("/lti/launch")
        launched = self.session.post(action, data=fields, allow_redirects=False, timeout=20)
        # The launch answers with the landing page, which swaps its address in for /lti/launch.
        assert launched.status_code == 200 and REPLACE_STATE in launched.text, launched.text[:500]
        return {"login": login.headers["X-Request-ID"], "launch": launched.headers["X-Request-ID"]}

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.url(path) if path.startswith("/") else path, timeout=20)

    def post(self, path: str, data: dict) -> requests.Response:
        return self.session.post(self.url(path), data=data, allow_redirects=False, timeout=30)


def served_by(deployment) -> dict[str, int]:
    """Request id -> the instance port whose JSON access log has it."""
    out = {}
    for port in deployment["web_ports"]:
        for line in deployment["processes"].log(f"web-{port}").splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                if entry.get("logger") == "lti_tool.access" and entry.get("request_id"):
                    out[entry["request_id"]] = port
    return out


def scrape(port: int) -> str:
    response = requests.get(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": "Bearer scrape-me"},
                            timeout=10)
    assert response.status_code == 200
    return response.text


def metric(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = rf"^{re.escape(name)}{re.escape('{' + wanted + '}') if labels else ''} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_logins_and_launches_split_across_instances(deployment):
    ids = []
    for i in range(4):
        browser = Browser(deployment, f"visitor{i}", "learner")
        ids.append(browser.launch())
        # A login and a launch are two requests, so nginx's round robin would pair the instances the same
        # way every time; a third request in between makes the next visitor start on the other one.
        assert browser.get("/healthz").status_code == 200
    where = served_by(deployment)
    pairs = [(where[i["login"]], where[i["launch"]]) for i in ids]
    first, second = deployment["web_ports"]
    assert (first, second) in pairs and (second, first) in pairs, pairs  # both ways round
    deployment["processes"].check_alive()


def test_tls_and_the_public_edge(deployment):
    plain = requests.get(deployment["http"] + "/lti/setup", allow_redirects=False, timeout=10)
    assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
    secure = requests.get(deployment["base"] + "/readyz", verify=deployment["certs"]["ca"], timeout=10)
    assert secure.json()["status"] == "ready" and secure.json()["checks"] == ["database", "migrations", "redis"]
    blocked = requests.get(deployment["base"] + "/metrics", headers={"Authorization": "Bearer scrape-me"},
                           verify=deployment["certs"]["ca"], timeout=10)
    assert blocked.status_code == 404  # metrics only on the instances' own ports
    browser = Browser(deployment, "cookie-check", "learner")
    browser.launch()
    cookie = next(c for c in browser.session.cookies if c.name == "rml_session")
    assert cookie.secure  # the app saw https through the proxy (X-Forwarded-Proto)


def test_facilitator_flow_through_nginx_with_the_worker(deployment):
    lms, inbox = deployment["lms"], deployment["inbox"]
    lms.members = [{"user_id": sub, "name": sub.capitalize(), "email": f"{sub}@example.com", "status": "Active",
                    "roles": ROLE["learner"]} for sub, *_ in LEARNERS]
    teacher = Browser(deployment, "teacher", "instructor")
    teacher.launch()
    form = teacher.get("/facilitator/cohorts/new")
    created = teacher.post("/facilitator/cohorts/new", cohort_data(Page(form), name="Scale lab"))
    assert created.status_code == 303, created.text[:500]
    cohort_url = created.headers["Location"].replace(deployment["base"], "")
    cohort_id = int(cohort_url.rstrip("/").rsplit("/", 1)[1])

    page = teacher.get(cohort_url)
    synced = teacher.post(f"{cohort_url}/roster/sync", {"csrf_token": csrf(page)})
    assert synced.status_code == 303
    assert "Roster sync started" in teacher.get(cohort_url).text  # queued for the worker
    wait_until(lambda: all(sub.capitalize() in teacher.get(cohort_url).text for sub, *_ in LEARNERS),
               timeout=30, what="the worker's roster sync")

    for sub, gender, department, offers, wants in LEARNERS:
        learner = Browser(deployment, sub, "learner")
        learner.launch()
        intake = learner.get(f"/learner/cohorts/{cohort_id}/intake")
        assert intake.status_code == 200, intake.text[:300]
        saved = learner.post(f"/learner/cohorts/{cohort_id}/intake", {
            "csrf_token": csrf(intake), "gender": gender, "department": department, "location": "Berlin",
            "timezone": "Europe/Berlin", "level": "3", "manager": "", "offers_other": offers, "wants_other": wants,
            "availability": ["tue-10"], "consent": "y", "submit_intake": "Submit intake"})
        assert saved.status_code in (302, 303), saved.text[:300]

    page = teacher.get(cohort_url)
    assert "4 of 4 people have submitted" in page.text
    proposed = teacher.post(f"/facilitator/cohorts/{cohort_id}/match", {"csrf_token": csrf(page)})
    assert proposed.status_code == 303
    review_url = proposed.headers["Location"].replace(deployment["base"], "")
    status = wait_until(lambda: (s := teacher.get(review_url + "/status.json").json())["status"] in ("done", "failed")
                        and s, timeout=30, what="the worker's matching run")
    assert status["status"] == "done", status
    review = teacher.get(review_url)
    assert "Ana &amp; Ben" in review.text or "Ben &amp; Ana" in review.text
    published = teacher.post(review_url + "/publish", {"csrf_token": csrf(review)})
    assert published.status_code == 303
    assert "teams published" in teacher.get(cohort_url).text

    page = teacher.get(cohort_url)
    sent = teacher.post(f"/facilitator/cohorts/{cohort_id}/invites", {"csrf_token": csrf(page)})
    assert sent.status_code == 303

    def invited():
        calendars = {m["To"] for m in inbox.messages
                     if any(p.get_content_type() == "text/calendar" for p in m.walk())}
        return {f"{sub}@example.com" for sub, *_ in LEARNERS} <= calendars

    wait_until(invited, timeout=30, what="calendar invites delivered by the worker")

    # both instances report the same shared figures, and the worker's job times
    for port in deployment["web_ports"]:
        text = scrape(port)
        assert metric(text, "rml_job_duration_seconds_count", job="run_matching", outcome="done") >= 1
        assert metric(text, "rml_job_duration_seconds_count", job="sync_from_lms_job", outcome="done") == 1
        assert metric(text, "rml_redis_up") == 1 and metric(text, "rml_database_up") == 1
        assert metric(text, "rml_job_queue_jobs", queue="rml", state="failed") == 0
    assert len(lms.token_requests) == 1  # the roster call's token, kept in Redis
    deployment["processes"].check_alive()


def test_metrics_add_up_the_gunicorn_workers_of_each_instance(deployment):
    before = sum(metric(scrape(p), "rml_launches_total", role="learner") for p in deployment["web_ports"])
    for i in range(4):
        Browser(deployment, f"counted{i}", "learner").launch()
    after = sum(metric(scrape(p), "rml_launches_total", role="learner") for p in deployment["web_ports"])
    assert after - before == 4


def test_key_rotation_is_seen_by_both_instances_at_once(deployment):
    before = requests.get(f"http://127.0.0.1:{deployment['web_ports'][0]}/lti/jwks", timeout=10).json()["keys"]
    assert before  # the signing key in use (made on first use when no launch came before this test)
    rotated = subprocess.run([str(deployment["flask"]), "--app", "lti_tool", "keys", "rotate"],
                             env=deployment["migrate_env"], cwd=ROOT, check=True, capture_output=True, text=True,
                             timeout=60)
    kid = re.search(r"New signing key (\S+);", rotated.stdout).group(1)
    for port in deployment["web_ports"]:
        served = requests.get(f"http://127.0.0.1:{port}/lti/jwks", timeout=10).json()
        kids = [k["kid"] for k in served["keys"]]
        assert kid in kids and {k["kid"] for k in before} <= set(kids)  # the new key and the retired one
    Browser(deployment, "after-rotation", "learner").launch()


def test_the_daily_maintenance_unit_runs(deployment):
    maintenance = Unit("mentoring-lab-maintenance.service", "", deployment["env"], {"/opt/mentoring-lab": str(ROOT)})
    done = subprocess.run(maintenance.argv, env=maintenance.env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "expired nonces deleted" in done.stdout, done.stderr[-2000:]
    timer = (DEPLOY / "systemd" / "mentoring-lab-maintenance.timer").read_text()
    assert "OnCalendar=" in timer and "Persistent=true" in timer
