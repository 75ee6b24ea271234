"""The shipped deployment on one machine: nginx (deploy/nginx/mentoring-lab.conf), two gunicorn instances and an
RQ worker started from the ExecStart lines of deploy/systemd/*.service with the settings of
deploy/mentoring-lab.env.example — secrets, addresses and ports replaced, nothing else.

Used by tests/ops/test_scale_out.py and by benchmarks/load_bench.py (which brings its own PostgreSQL server).
"""
from __future__ import annotations

import datetime as dt
import html
import ipaddress
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.conftest import ON_CI
from tests.ops.helpers import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def need(binary: str) -> str:
    found = shutil.which(binary) or next((p for p in (f"/usr/sbin/{binary}", f"/usr/bin/{binary}") if Path(p).exists()),
                                         None)
    if found is None:
        message = f"{binary} is not installed (make test installs it)"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


# --- certificates: a test CA and a certificate for 127.0.0.1 ------------------------------------------
def make_certificates(directory: Path) -> dict[str, str]:
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Mentoring lab test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = {"ca": directory / "ca.pem", "cert": directory / "server.pem", "key": directory / "server.key"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return {name: str(path) for name, path in files.items()}


# --- the shipped files, read as systemd and nginx would -------------------------------------------------
def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


class Unit:
    """A systemd unit's ExecStart and Environment=, with %i, %H and ${VAR} expanded like systemd does."""

    def __init__(self, name: str, instance: str, env: dict[str, str], paths: dict[str, str]):
        text = (DEPLOY / "systemd" / name).read_text()
        directives = [line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#")]

        def expand(value: str) -> str:
            value = value.replace("%i", instance).replace("%H", "testhost")
            for production, here in paths.items():
                value = value.replace(production, here)
            return re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], value)

        assert any(k == "EnvironmentFile" and v == "/etc/mentoring-lab/mentoring-lab.env" for k, v in directives)
        self.env = dict(env)
        for key, value in directives:
            if key == "Environment":
                name_, _, val = expand(value).partition("=")
                self.env[name_] = val
        self.argv = shlex.split(expand(next(v for k, v in directives if k == "ExecStart")))


def nginx_site(https_port: int, http_port: int, upstreams: list[int], certs: dict[str, str]) -> str:
    """deploy/nginx/mentoring-lab.conf with loopback ports and the test certificate; nothing else changes."""
    site = (DEPLOY / "nginx" / "mentoring-lab.conf").read_text()
    replacements = [
        ("    listen [::]:80;\n", ""),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("server 127.0.0.1:8001 ", f"server 127.0.0.1:{upstreams[0]} "),
        ("server 127.0.0.1:8002 ", f"server 127.0.0.1:{upstreams[1]} "),
        ("/etc/letsencrypt/live/mentoring.example.com/fullchain.pem", certs["cert"]),
        ("/etc/letsencrypt/live/mentoring.example.com/privkey.pem", certs["key"]),
    ]
    for production, here in replacements:
        assert site.count(production) == 1, f"deploy/nginx/mentoring-lab.conf no longer has {production!r}"
        site = site.replace(production, here)
    return site


NGINX_MAIN = """daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    include {dir}/mentoring-lab.conf;
}}
"""


# --- processes ---------------------------------------------------------------------------------------
class Processes:
    def __init__(self, directory: Path):
        self.directory = directory
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.directory / f"{name}.log", "wb")
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        log.close()
        self.running[name] = process
        return process

    def log(self, name: str) -> str:
        return (self.directory / f"{name}.log").read_text(errors="replace")

    def check_alive(self) -> None:
        for name, process in self.running.items():
            assert process.poll() is None, f"{name} exited with {process.returncode}:\n{self.log(name)[-3000:]}"

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # the group this test started (gunicorn or rq and children)
        for _name, process in self.running.items():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def csrf(response: requests.Response) -> str:
    return response.text.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


def auto_submit_fields(page: str) -> tuple[str, dict[str, str]]:
    action = html.unescape(re.search(r'<form id="f" method="post" action="([^"]+)"', page).group(1))
    fields = {html.unescape(k): html.unescape(v) for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', page)}
    return action, fields


@contextmanager
def deployed(directory: Path, *, database_url: str, redis_url: str, lms, certs: dict[str, str],
             settings: dict[str, str] | None = None):
    """Migrate the database, register ``lms``, start both instances, the worker and nginx; stop them on exit.

    ``settings`` replace more values of the example env file (each must exist there). Yields the public
    ``base`` URL, the plain ``http`` one, the instances' ``web_ports``, the ``processes``, the ``env`` and the
    migrate unit's (``migrate_env``, ``flask``)."""
    nginx = need("nginx")
    os.chmod(directory, 0o755)
    (directory / "tmp").mkdir(mode=0o777)
    os.chmod(directory / "tmp", 0o777)  # nginx workers run as nobody when started by root
    processes = Processes(directory)
    https_port, http_port, web_ports = free_port(), free_port(), [free_port(), free_port()]
    base = f"https://127.0.0.1:{https_port}"
    try:
        example = read_env_file(DEPLOY / "mentoring-lab.env.example")
        overrides = {
            "SECRET_KEY": secrets.token_urlsafe(48), "PUBLIC_BASE_URL": base, "DATABASE_URL": database_url,
            "REDIS_URL": redis_url, "METRICS_TOKEN": "scrape-me", "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
            **(settings or {}),
        }
        missing = set(overrides) - set(example)
        assert not missing, f"deploy/mentoring-lab.env.example lost {missing}"
        assert example["LAB_ENV"] == "production" and example["LOG_FORMAT"] == "json"
        env = {**example, **overrides, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
               "HOME": str(directory), "LANG": "C.UTF-8",
               "REQUESTS_CA_BUNDLE": certs["ca"]}  # the test LMS's certificate comes from the test CA
        paths = {"/opt/mentoring-lab": str(ROOT), "/run/mentoring-lab": str(directory / "run")}

        migrate = Unit("mentoring-lab-migrate.service", "", env, paths)
        subprocess.run(migrate.argv, env=migrate.env, cwd=ROOT, check=True, capture_output=True, timeout=120)
        flask = Path(migrate.argv[0])
        registration = lms.registration_args()
        subprocess.run([str(flask), "--app", "lti_tool", "platform", "add", "--issuer", registration["issuer"],
                        "--client-id", registration["client_id"], "--deployment-id", registration["deployment_id"],
                        "--auth-login-url", registration["auth_login_url"], "--auth-token-url",
                        registration["auth_token_url"], "--jwks-url", registration["jwks_url"], "--name", "Test LMS"],
                       env=migrate.env, cwd=ROOT, check=True, capture_output=True, timeout=60)

        for port in web_ports:
            web = Unit("mentoring-lab-web@.service", str(port), env, paths)
            Path(web.env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True)  # systemd's RuntimeDirectory=
            processes.start(f"web-{port}", web.argv, web.env)
        worker = Unit("mentoring-lab-worker@.service", "1", env, paths)
        processes.start("worker", worker.argv, worker.env)

        (directory / "mentoring-lab.conf").write_text(nginx_site(https_port, http_port, web_ports, certs))
        (directory / "nginx.conf").write_text(NGINX_MAIN.format(dir=directory))
        test = subprocess.run([nginx, "-t", "-c", str(directory / "nginx.conf"), "-p", str(directory),
                               "-e", str(directory / "error.log")], capture_output=True, text=True)
        assert test.returncode == 0, test.stderr
        processes.start("nginx", [nginx, "-c", str(directory / "nginx.conf"), "-p", str(directory),
                                  "-e", str(directory / "error.log")], env)

        for port in web_ports:
            wait_until(lambda port=port: requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200,
                       timeout=60, what=f"instance {port} ready")
        wait_until(lambda: requests.get(f"{base}/healthz", verify=certs["ca"], timeout=2).ok, what="nginx")
        yield {"base": base, "http": f"http://127.0.0.1:{http_port}", "web_ports": web_ports, "processes": processes,
               "env": env, "flask": flask, "migrate_env": migrate.env}
    finally:
        processes.stop_all()
