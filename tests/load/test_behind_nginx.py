"""The deploy/ nginx site run for real (the machine's nginx) in front of two app servers in
production mode on PostgreSQL, Redis and the S3 server: what the app believes of a request
(scheme, host, client address) comes through the site, a forged ``X-Forwarded-For`` does
not, the limits and the refusals are the site's as written.

The site file is used as it is but for what only its real machine has: the upstream hosts,
the ports (80 and 443 need root and may be taken), the certificate paths and IPv6.
"""
from __future__ import annotations

import datetime
import http.client
import re
import shutil
import ssl
import subprocess
import time

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from deployment import BIN, MISSING, ROOT, Processes, free_port, no_control_socket, wait_until_serving
from sqlalchemy import create_engine, text

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
SITE = ROOT / "deploy" / "nginx" / "recovery-desk.conf"
HOST = "desk.example.org"  # the site's server_name
PUBLIC_URL = f"https://{HOST}"
FORGED = "10.9.9.9"

pytestmark = [
    pytest.mark.load,
    pytest.mark.skipif(MISSING is not None, reason=f"nginx test skipped: {MISSING}"),
    pytest.mark.skipif(NGINX is None, reason="nginx test skipped: no nginx (make system-test-deps installs it)"),
]


def _site(app_ports: list[int], http_port: int, https_port: int, certs) -> str:
    """The deploy site with this machine's upstreams, ports and certificates; each replaced
    text must still be in the site, so the test follows the file."""
    site = SITE.read_text()
    replacements = {"server app1:8000": f"server 127.0.0.1:{app_ports[0]}",
                    "server app2:8000": f"server 127.0.0.1:{app_ports[1]}",
                    "listen 80;": f"listen 127.0.0.1:{http_port};",
                    "listen 443 ssl": f"listen 127.0.0.1:{https_port} ssl",
                    "/etc/nginx/certs/": f"{certs}/"}
    for old, new in replacements.items():
        assert old in site, f"the site no longer says {old!r}: update this test"
        site = site.replace(old, new)
    return re.sub(r"^\s*listen \[::\].*\n", "", site, flags=re.M)


def _certificate(folder) -> None:
    """A self-signed certificate for the site's host, where the site expects its files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
                   .sign(key, hashes.SHA256()))
    folder.mkdir()
    (folder / "fullchain.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))


def _nginx_conf(tmp_path, site) -> str:
    """A main configuration around the site, everything nginx writes under ``tmp_path``."""
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    site_path = tmp_path / "recovery-desk.conf"
    site_path.write_text(site)
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    paths = "\n".join(f"    {kind}_temp_path {temp}/{kind};" for kind in kinds)
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""user root;
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
{paths}
    include {site_path};
}}
""")
    return str(conf)


@pytest.fixture
def desk_behind_nginx(desk_environment, tmp_path):
    """Two gunicorn servers and nginx with the deploy site; yields (http base, https base, environment)."""
    processes = Processes(tmp_path)
    environment = {**desk_environment, "PUBLIC_URL": PUBLIC_URL}
    try:
        app_ports = []
        for name in ("app-a", "app-b"):
            port = free_port()
            processes.start(name, [str(BIN / "gunicorn"), "--workers", "1", "--threads", "2", "--keep-alive", "75",
                                   "--bind", f"127.0.0.1:{port}", *no_control_socket(), "app:app"],
                            {**environment, "INSTANCE_PATH": str(tmp_path / name)})
            app_ports.append(port)
        for port in app_ports:
            wait_until_serving(f"http://127.0.0.1:{port}", processes)
        http_port, https_port = free_port(), free_port()
        _certificate(tmp_path / "certs")
        conf = _nginx_conf(tmp_path, _site(app_ports, http_port, https_port, tmp_path / "certs"))
        error_log = str(tmp_path / "nginx-error.log")
        checked = subprocess.run([NGINX, "-t", "-c", conf, "-e", error_log], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        processes.start("nginx", [NGINX, "-c", conf, "-e", error_log, "-g", "daemon off;"], environment)
        https = f"https://127.0.0.1:{https_port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{https}/healthz", headers={"Host": HOST}, verify=False, timeout=5).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, processes.tail()
            time.sleep(0.3)
        yield f"http://127.0.0.1:{http_port}", https, environment
    finally:
        processes.stop()


def _announce_a_body(https: str, length: int) -> tuple[int, str]:
    """A POST that announces a body of ``length`` bytes and sends none: nginx answers from the
    length alone, before any byte of it."""
    host, port = https.removeprefix("https://").split(":")
    connection = http.client.HTTPSConnection(host, int(port), context=ssl._create_unverified_context(), timeout=30)
    try:
        connection.putrequest("POST", "/agent/sign-in", skip_host=True)
        for name, value in (("Host", HOST), ("Content-Length", str(length)),
                            ("Content-Type", "application/x-www-form-urlencoded")):
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


def _client() -> requests.Session:
    client = requests.Session()
    client.trust_env, client.verify = False, False
    client.headers.update({"Host": HOST, "User-Agent": "nginx-test/1"})
    return client


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_the_deploy_site_passes_scheme_host_and_client_and_nothing_forged(desk_behind_nginx):
    http, https, environment = desk_behind_nginx
    client = _client()

    # plain HTTP only redirects, to the public host
    moved = client.get(f"{http}/agent/sign-in", allow_redirects=False)
    assert moved.status_code == 301 and moved.headers["Location"] == f"{PUBLIC_URL}/agent/sign-in"

    # the app believes the request is HTTPS for the public host: its session cookie is
    # Secure, and a form posted from the public host's page passes the strict referer check
    page = client.get(f"{https}/agent/sign-in")
    assert page.status_code == 200 and "secure" in page.headers["Set-Cookie"].lower()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": token, "email": "nobody@example.org", "password": "wrong password"}
    refused = client.post(f"{https}/agent/sign-in", data=form, allow_redirects=False,
                          headers={"Referer": f"{PUBLIC_URL}/agent/sign-in", "X-Forwarded-For": FORGED})
    assert refused.status_code == 200 and "Wrong email or password" in refused.text
    # ... and one posted from another site does not
    elsewhere = client.post(f"{https}/agent/sign-in", data=form, allow_redirects=False,
                            headers={"Referer": "https://attacker.example/agent/sign-in"})
    assert elsewhere.status_code == 400

    # the client's address is the one nginx saw: a forged X-Forwarded-For reaches no record
    engine = create_engine(environment["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            recorded = [row[0] for row in connection.execute(text(
                "SELECT ip FROM audit_event WHERE action = 'agent.sign_in_failed'"))]
            values = {row[0] for row in connection.execute(text("SELECT value FROM personal_value"))}
    finally:
        engine.dispose()
    assert recorded and all(ip == "127.0.0.1" or (ip.startswith("pv:") and "127.0.0.1" in values) for ip in recorded)
    assert FORGED not in values and FORGED not in recorded

    # /metrics is the monitoring network's only, whatever the request claims
    for headers in ({}, {"X-Forwarded-For": "10.0.0.5"}):
        assert client.get(f"{https}/metrics", headers=headers).status_code == 403

    # a body far over the app's limit stops at nginx; one just over it reaches the app,
    # which answers with its own page
    limit = int(environment.get("MAX_REQUEST_MB", 60)) * 1024 * 1024
    status, answer = _announce_a_body(https, 80 * 1024 * 1024)
    assert status == 413 and "nginx" in answer
    over = client.post(f"{https}/agent/sign-in", data=b"x" * (limit + 1024 * 1024),
                       headers={"Content-Type": "application/x-www-form-urlencoded",
                                "Referer": f"{PUBLIC_URL}/agent/sign-in"})
    assert over.status_code == 413 and "nginx" not in over.text and "too large" in over.text
