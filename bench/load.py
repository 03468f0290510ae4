"""Several app servers under a mixed load, then the proof that nothing was lost or done twice.

    python bench/load.py --server http://127.0.0.1:8001 --server http://127.0.0.1:8002 \\
        --outbox DIR [--duration 60] [--concurrency 64] [--witness FILE ...]

Run it with the servers' own environment (``DATABASE_URL``, ``SECRET_KEY``,
``AUDIT_SIGNING_KEY``, the storage settings, ``PUBLIC_URL``...): it builds the app in-process
only to seed staff and directory rows before the load and to read the database and the
file store after it; every step of the load goes over HTTP, each simulated person's
requests alternating between the servers, so a session made on one is used on the other.
The servers must believe one proxy (``TRUSTED_PROXIES=1``): each request carries the
headers nginx would set (``X-Forwarded-For`` with the person's own address,
``X-Forwarded-Proto: https``, the host of ``PUBLIC_URL``), so rate limits see many people,
not one load generator. ``--outbox`` is the folder the servers write email to
(``MAIL_OUTBOX_DIR``): claimants open their confirmation link from there.

The load, for ``--duration`` seconds on ``--concurrency`` connections: claimants file a
case with real files (a JPEG, a PDF), confirm their address through the emailed link,
follow the case with its number and private code, add a file, reply and look at their
own thumbnails; agents sign in, take the next case, approve, reject or ask for more,
request the action (a fresh one-time code each time, as a phone gives), execute an
unlock (sometimes twice at once, on both servers, like a double click); supervisors
approve force-unbinds from the approvals list. The worker runs due unlocks meanwhile.

Then it checks, and says in one JSON line at the end (``ok``): no HTTP error (a 5xx, a
refused connection or a status the step does not allow), every evidence row's files in
the store with the bytes their SHA-256 names and every accepted upload on its case,
``flask audit verify`` passing (with each ``--witness`` file), every action executed at
most once and exactly once when executed (its ``action.executed`` events), one case per
filing. Exit status 0 only when all hold. ``tests/load/test_two_servers.py`` runs it
against two gunicorn servers; not a benchmark of speed.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# bench/ holds queue.py: keep the folder off sys.path so the stdlib ``queue`` stays importable
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from email import message_from_bytes  # noqa: E402
from email.policy import default as email_policy  # noqa: E402
from html import unescape  # noqa: E402
from http.cookies import SimpleCookie  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import pyotp  # noqa: E402
import requests  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402
from urllib3.util.retry import Retry  # noqa: E402
from PIL import Image  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from support import agents, create_app, db, imei  # noqa: E402
from support.audit import Actor  # noqa: E402
from support.models import (Account, AccountStatus, Action, ActionStatus, AuditEvent, Case, Device,  # noqa: E402
                            Evidence, Role, utcnow)
from support.passwords import hash_password  # noqa: E402
from support.storage import storage  # noqa: E402

PASSWORD = "load-test agent password"
SEED_ACTOR = Actor("cli", None, "bench/load.py")
#: the stored copies of one evidence row, by storage area
EVIDENCE_AREAS = {"originals": "sha256", "viewable": "viewable_sha256", "thumbnails": "thumbnail_sha256",
                  "print": "print_sha256"}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')
TIMEOUT = 120


# -- real files ---------------------------------------------------------------------------


def picture(seed: int, size=(320, 240)) -> bytes:
    """A small real JPEG, different for every seed (so every upload is its own file)."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    for x in range(0, size[0], 16):
        image.paste(tuple(rng.randrange(256) for _ in range(3)), (x, rng.randrange(size[1] // 2), x + 8, size[1]))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def receipt_pdf(seed: int) -> bytes:
    """A one-page real PDF (a picture of a receipt, as a phone's scanner app saves it)."""
    image = Image.new("RGB", (240, 320), (250, 250, 250))
    rng = random.Random(seed)
    for y in range(20, 300, 18):
        image.paste((30, 30, 30), (20, y, 20 + rng.randrange(60, 200), y + 6))
    out = io.BytesIO()
    image.save(out, "PDF", resolution=72)
    return out.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- what happened, shared by every thread ----------------------------------------------------


@dataclass
class Ledger:
    """Every request's outcome, every filing, every accepted upload, every execution seen."""

    statuses: Counter = field(default_factory=Counter)
    errors: list = field(default_factory=list)
    filed: dict = field(default_factory=dict)  # case number -> contact email
    uploads: list = field(default_factory=list)  # (case number, sha256 of the original)
    steps: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, label: str, status: int | str) -> None:
        with self.lock:
            self.statuses[f"{label} {status}"] += 1

    def error(self, label: str, detail: str) -> None:
        with self.lock:
            self.errors.append(f"{label}: {detail}"[:600])

    def step(self, name: str) -> None:
        with self.lock:
            self.steps[name] += 1

    def add(self, attribute: str, value) -> None:
        with self.lock:
            target = getattr(self, attribute)
            target.append(value) if isinstance(target, list) else target.update([value])


class Unexpected(Exception):
    """A response the step does not allow; already in the ledger."""


class Browser:
    """One person's browser behind the proxy: own cookies, own address, servers in turn.

    Cookies are kept by hand: the app marks them ``Secure`` (the proxy speaks https), which
    an HTTP client would otherwise keep from the plain-http hop between proxy and app.
    """

    def __init__(self, servers: list[str], public_url: str, address: str, ledger: Ledger):
        self.servers, self.address, self.ledger = servers, address, ledger
        self.public = public_url.rstrip("/")
        self.host = urlsplit(public_url).netloc
        self.turn = random.randrange(len(servers))
        self.cookies: dict[str, str] = {}
        self.http = requests.Session()
        self.http.trust_env = False
        # as a browser (or nginx) does: a GET that met a keep-alive connection the server had
        # just closed is sent once more; a POST never is (it may have filed a case)
        self.http.mount("http://", HTTPAdapter(max_retries=Retry(total=1, connect=1, read=1, status=0, other=0,
                                                                 allowed_methods={"GET"}, raise_on_status=False)))
        self.cookie_lock = threading.Lock()

    def request(self, method: str, path: str, label: str, expect=(200,), referer: str | None = None,
                server: str | None = None, **kwargs) -> requests.Response:
        """Send one request to the next server; ``Unexpected`` for a status not in ``expect``."""
        if server is None:
            self.turn += 1
            server = self.servers[self.turn % len(self.servers)]
        headers = {"X-Forwarded-For": self.address, "X-Forwarded-Proto": "https", "X-Forwarded-Host": self.host,
                   "User-Agent": "recovery-desk-load/1", "Referer": self.public + (referer or path)}
        with self.cookie_lock:
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            response = self.http.request(method, server + path, headers=headers, allow_redirects=False,
                                         timeout=TIMEOUT, **kwargs)
        except requests.RequestException as error:
            self.ledger.count(label, "exception")
            self.ledger.error(label, f"{method} {server}{path}: {type(error).__name__}: {error}")
            raise Unexpected(label) from error
        self._keep_cookies(response)
        self.ledger.count(label, response.status_code)
        if response.status_code not in expect:
            self.ledger.error(label, f"{method} {server}{path} -> {response.status_code}: {_text(response)[:300]}")
            raise Unexpected(label)
        return response

    def _keep_cookies(self, response: requests.Response) -> None:
        with self.cookie_lock:
            for header in response.raw.headers.getlist("Set-Cookie"):
                jar = SimpleCookie()
                jar.load(header)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value

    def page(self, path: str, label: str, expect=(200,)) -> str:
        return self.request("GET", path, label, expect=expect).text

    def post(self, path: str, label: str, data: dict, *, page: str, expect=(302, 303), files=None,
             server: str | None = None) -> requests.Response:
        """A form post with the CSRF token of ``page`` (the HTML the form came from)."""
        token = CSRF.search(page)
        if token is None:
            self.ledger.error(label, f"no CSRF token on the page before POST {path}")
            raise Unexpected(label)
        return self.request("POST", path, label, expect=expect, data={**data, "csrf_token": unescape(token[1])},
                            files=files, server=server)


def _text(response: requests.Response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text or ""))


def _local(location: str) -> str:
    """The path of a redirect's Location (absolute on the public host or already a path)."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# -- the outbox ------------------------------------------------------------------------------


class Mailroom:
    """The email the servers wrote to the outbox folder, by recipient (read as it arrives)."""

    def __init__(self, folder: Path):
        self.folder, self.seen, self.by_recipient = folder, set(), {}
        self.lock = threading.Lock()

    def _scan(self) -> None:
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.iterdir()):
            if path.name in self.seen or not path.name.endswith(".eml"):
                continue
            self.seen.add(path.name)
            message = message_from_bytes(path.read_bytes(), policy=email_policy)
            body = message.get_body(("plain",)).get_content()
            self.by_recipient.setdefault(str(message["To"]).lower(), []).append(body)

    def link(self, recipient: str, pattern: re.Pattern, wait_s: float = 30) -> str | None:
        """The first link matching ``pattern`` in mail to ``recipient``; polls up to ``wait_s``.

        Mail is written right after the request commits, so it is normally there already.
        """
        deadline = time.monotonic() + wait_s
        while True:
            with self.lock:
                self._scan()
                for body in self.by_recipient.get(recipient.lower(), []):
                    found = pattern.search(body)
                    if found:
                        return found[0]
            if time.monotonic() > deadline:
                return None
            time.sleep(0.2)


# -- the people -------------------------------------------------------------------------------


@dataclass
class Identity:
    """A claimant and the directory rows the case is about."""

    kind: str
    contact_email: str
    name: str
    imei1: str
    hint_email: str
    address: str


@dataclass
class StaffMember:
    email: str
    secret: str
    role: Role
    address: str
    last_step: int = 0

    def code(self) -> str | None:
        """A one-time code for a time step not used yet, or None until the phone shows the next.

        Only now's step and the next are used (the server accepts one either side): a code
        still good when the request arrives a little later. Each step is accepted once.
        """
        totp = pyotp.TOTP(self.secret)
        now = totp.timecode(utcnow())
        for step in (now, now + 1):
            if step > self.last_step:
                self.last_step = step
                return totp.generate_otp(step)
        return None


class Load:
    """The running load: the people, the deadline, what each thread does."""

    def __init__(self, args, ledger: Ledger, identities: list[Identity], staff: list[StaffMember]):
        self.servers, self.public_url, self.ledger = args.server, args.public_url, ledger
        self.mailroom = Mailroom(Path(args.outbox))
        self.deadline = time.monotonic() + args.duration
        self.identities, self.identity_lock = iter(identities), threading.Lock()
        self.staff = staff
        self.seed = random.Random(args.seed)
        self.seed_lock = threading.Lock()
        self.confirm_link = re.compile(re.escape(args.public_url.rstrip("/")) + r"/recover/confirm/[^\s]+")

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    def browser(self, address: str) -> Browser:
        return Browser(self.servers, self.public_url, address, self.ledger)

    def number(self) -> int:
        with self.seed_lock:
            return self.seed.randrange(1 << 40)

    # claimants -----------------------------------------------------------------------------

    def claimant_loop(self) -> None:
        while self.running():
            with self.identity_lock:
                person = next(self.identities, None)
            if person is None:
                return
            try:
                self.claimant(person)
            except Unexpected:
                continue

    def claimant(self, person: Identity) -> None:
        browser = self.browser(person.address)
        form = browser.page(f"/recover?kind={person.kind}", "recover form")
        files = {"locked_account": [("evidence-id_document", "passport.jpg", picture(self.number()), "image/jpeg")],
                 "device_unbind": [("evidence-receipt", "receipt.pdf", receipt_pdf(self.number()), "application/pdf"),
                                   ("evidence-box_photo", "box.jpg", picture(self.number()), "image/jpeg")]}[person.kind]
        fields = {"kind": person.kind, "hint_email": person.hint_email, "imei1": person.imei1, "model": "Redmi Note 13",
                  "purchase_date": "2024-03-01", "shop": "Mi Store Milano", "claimant_name": person.name,
                  "contact_email": person.contact_email, "language": "en", "consent": "y"}
        browser.post("/recover", "recover post", fields, page=form, expect=(303,),
                     files=[(name, (filename, data, media)) for name, filename, data, media in files])
        filed = browser.page("/recover/filed", "filed page")
        number = re.search(r'id="case-number">([^<]+)<', filed)[1]
        token = re.search(r'id="case-token"[^>]*>([^<]+)<', filed)[1]
        with self.ledger.lock:
            self.ledger.filed[number] = person.contact_email
            self.ledger.uploads += [(number, sha256(data)) for _n, _f, data, _m in files]
        self.ledger.step("filed")

        link = self.mailroom.link(person.contact_email, self.confirm_link)
        if link is None:
            self.ledger.error("confirmation email", f"no confirmation link for {number}")
            raise Unexpected("confirmation email")
        browser.page(_local(link), "confirm link")
        self.ledger.step("confirmed")

        phone = self.browser(person.address)  # the claimant follows the case from another browser
        track = phone.page("/track", "track form")
        phone.post("/track", "track post", {"number": number, "token": token}, page=track, expect=(303,))
        case_page = phone.page("/track/case", "claimant case page")
        extra = picture(self.number())
        response = phone.post("/track/case/evidence", "claimant evidence", {"kind": "device_photo"}, page=case_page,
                              files=[("evidence", ("phone.jpg", extra, "image/jpeg"))], expect=(303, 422))
        if response.status_code == 303:
            self.ledger.add("uploads", (number, sha256(extra)))
        elif "This case is closed" not in response.text:
            self.ledger.error("claimant evidence", f"{number}: 422 on an open case: {_text(response)[:300]}")
        case_page = phone.page("/track/case", "claimant case page")
        phone.post("/track/case/reply", "claimant reply", {"body": "Thank you, here is one more photo."},
                   page=case_page, expect=(303, 422))
        for evidence_id in re.findall(r"/track/case/evidence/(\d+)/thumbnail", case_page)[:2]:
            phone.request("GET", f"/track/case/evidence/{evidence_id}/thumbnail", "claimant thumbnail")
        self.ledger.step("claimant done")

    # agents ----------------------------------------------------------------------------------

    def sign_in(self, member: StaffMember) -> Browser:
        browser = self.browser(member.address)
        form = browser.page("/agent/sign-in", "sign-in form")
        browser.post("/agent/sign-in", "sign-in post", {"email": member.email, "password": PASSWORD}, page=form,
                     expect=(302,))
        return browser

    def agent_loop(self, member: StaffMember) -> None:
        browser, waiting = self.sign_in(member), []  # cases approved whose action still needs a code
        while self.running():
            try:
                if waiting and member.last_step < pyotp.TOTP(member.secret).timecode(utcnow()) + 1:
                    self.act(browser, member, waiting.pop(0), waiting)
                    continue
                number = self.take_unbind(browser) if self.seed.random() < 0.5 else self.take_next(browser)
                if number is None:
                    browser.page("/dashboard", "dashboard", expect=(200, 403))
                    continue
                self.review(browser, member, number, waiting)
            except Unexpected:
                continue

    def take_next(self, browser: Browser) -> str | None:
        """**Take next** (the queue's order: the SLA soonest due, so unlocks first)."""
        queue = browser.page("/queue", "queue")
        taken = browser.post("/queue/take-next", "take next", {}, page=queue, expect=(302,))
        number = re.search(r"/cases/(RD-[0-9-]+)", taken.headers["Location"])
        return number and number[1]

    def take_unbind(self, browser: Browser) -> str | None:
        """A new force-unbind case from the filtered queue, claimed (another agent may be first)."""
        listing = browser.page("/queue?kind=device_unbind&status=new", "queue")
        found = re.search(r'href="/cases/(RD-[0-9-]+)"', listing)
        if found is None:
            return None
        page = browser.page(f"/cases/{found[1]}", "case page")
        version = VERSION.search(page)
        if version is None:
            return None
        claimed = browser.post(f"/cases/{found[1]}/claim", "claim", {"version": version[1]}, page=page,
                               expect=(302, 409))
        if claimed.status_code == 409:  # changed meanwhile
            return None
        page = browser.page(f"/cases/{found[1]}", "case page")  # the claim's outcome, as its message says
        return found[1] if "You have this case now." in page else None

    def review(self, browser: Browser, member: StaffMember, number: str, waiting: list) -> None:
        page = browser.page(f"/cases/{number}", "case page")
        version = VERSION.search(page)[1]
        choice = self.seed.random()
        if choice < 0.15:
            browser.post(f"/cases/{number}/request-information", "request information",
                         {"version": version, "reason_device_photo": "A photo of the phone's back, please."},
                         page=page, expect=(303, 302, 409))
            self.ledger.step("asked for more")
            return
        if choice < 0.25:
            browser.post(f"/cases/{number}/decision", "decide", {"version": version, "decision": "reject",
                                                                "public_reason": "The receipt does not match."},
                         page=page, expect=(302, 303, 409))
            self.ledger.step("rejected")
            return
        browser.post(f"/cases/{number}/decision", "decide", {"version": version, "decision": "approve",
                                                            "public_reason": "Your evidence is convincing."},
                     page=page, expect=(302, 303, 409))
        self.ledger.step("approved")
        waiting.append(number)
        self.act(browser, member, waiting.pop(0), waiting)

    def act(self, browser: Browser, member: StaffMember, number: str, waiting: list) -> None:
        """Request the case's action, and execute an unlock, each with a fresh code when the phone has one."""
        page = browser.page(f"/cases/{number}", "case page")
        execute = re.search(r"/actions/(\d+)/execute", page)
        if execute is None and f'/cases/{number}/actions"' in page:
            code = member.code()
            if code is None:
                waiting.append(number)
                return
            browser.post(f"/cases/{number}/actions", "request action", {"code": code, "next": f"/cases/{number}"},
                         page=page, expect=(302, 303))  # 303: refused and sent back with why
            self.ledger.step("action requested")
            page = browser.page(f"/cases/{number}", "case page")
            execute = re.search(r"/actions/(\d+)/execute", page)
        if execute is None:
            return
        first = member.code()
        if first is None:
            waiting.append(number)
            return
        second = member.code() if self.seed.random() < 0.4 else None
        path, data = f"/actions/{execute[1]}/execute", {"next": f"/cases/{number}"}
        if second is None:
            browser.post(path, "execute", {**data, "code": first}, page=page, expect=(302, 303))
            self.ledger.step("execute")
            return
        # a double click: both servers at once, each with its own code; the action runs once
        outcomes = []
        clicks = [threading.Thread(target=self._click, args=(browser, path, {**data, "code": code}, page, server,
                                                             outcomes))
                  for code, server in zip((first, second), self.servers)]
        for click in clicks:
            click.start()
        for click in clicks:
            click.join()
        self.ledger.step("double execute")

    def _click(self, browser, path, data, page, server, outcomes) -> None:
        try:  # refused (303, sent back with why): the other click ran it, or its code came after the other's
            outcomes.append(browser.post(path, "execute (double click)", data, page=page, server=server,
                                         expect=(302, 303)).status_code)
        except Unexpected:
            pass

    def supervisor_loop(self, member: StaffMember) -> None:
        browser = self.sign_in(member)
        while self.running():
            try:
                listing = browser.page("/approvals", "approvals")
                pending = re.findall(r"/actions/(\d+)/approve", listing)
                if not pending or member.last_step >= pyotp.TOTP(member.secret).timecode(utcnow()) + 1:
                    browser.page("/queue", "queue")
                    continue
                code = member.code()
                action_id = self.seed.choice(pending)
                browser.post(f"/actions/{action_id}/approve", "approve", {"code": code, "next": "/approvals"},
                             page=listing, expect=(302, 303))
                self.ledger.step("approved action")
            except Unexpected:
                continue


# -- before and after --------------------------------------------------------------------------


def seed(app, run: str, *, agents_count: int, supervisors: int, identities: int) -> tuple[list, list]:
    """Staff with TOTP phones, and the directory rows claimants will name (one password hash for all)."""
    staff = []
    with app.app_context(), db.transaction(app) as session:
        for index in range(agents_count + supervisors):
            role = Role.agent if index < agents_count else Role.supervisor
            member = StaffMember(f"load-{run}-{role.value}-{index}@example.test", pyotp.random_base32(), role,
                                 f"10.200.{index // 250}.{index % 250 + 1}")
            agent = agents.create_agent(session, email=member.email, name=f"Load {role.value} {index}", role=role,
                                        password=PASSWORD, actor=SEED_ACTOR)
            agent.totp_secret = member.secret
            session.add(agent)
            staff.append(member)
        password_hash, people = hash_password("owner password"), []
        first_id = 7_000_000_000 + random.randrange(10**9)
        for index in range(identities):
            kind = "locked_account" if index % 2 else "device_unbind"  # unlocks run now, unbinds wait for a supervisor
            owner = f"owner-{run}-{index}@example.test"
            account = Account(id=first_id + index, email=owner, password_hash=password_hash,
                              **({"status": AccountStatus.locked, "failed_attempts": 10,
                                  "locked_at": utcnow(), "lock_reason": "10 wrong passwords"}
                                 if kind == "locked_account" else {}))
            session.add(account)
            device = Device(imei1=imei.generate(), model="Redmi Note 13", account_id=account.id,
                            bound_at=utcnow())
            session.add(device)
            people.append(Identity(kind, f"claimant-{run}-{index}@example.test", f"Claimant {index}", device.imei1,
                                   owner, f"10.{100 + index // 62500}.{index // 250 % 250}.{index % 250 + 1}"))
    return staff, people


def check(app, ledger: Ledger, witnesses: list[str], run: str) -> dict:
    """What the load left behind, against what it must be."""
    problems = []
    bind = db.reader(db.engine(app))
    if bind.dialect.name == "postgresql":  # one snapshot: the worker may execute a due unlock meanwhile
        bind = bind.execution_options(isolation_level="REPEATABLE READ")
    with app.app_context(), Session(bind) as session:
        files = storage()
        evidence_rows = session.exec(select(Evidence)).all()
        for row in evidence_rows:
            for area, column in EVIDENCE_AREAS.items():
                name = getattr(row, column)
                if name is None:
                    continue
                if not files.exists(area, name):
                    problems.append(f"evidence {row.id}: {area}/{name} is missing from the store")
                elif sha256(files.open(area, name)) != name:
                    problems.append(f"evidence {row.id}: {area}/{name} does not have the bytes its name says")
        numbers = dict(session.exec(select(Case.id, Case.number)).all())
        on_case = {(numbers[row.case_id], row.sha256) for row in evidence_rows}
        problems += [f"upload {sha} accepted for {number} is not on the case"
                     for number, sha in ledger.uploads if (number, sha) not in on_case]

        cases = session.exec(select(Case.number, Case.contact_email)
                             .where(Case.contact_email.like(f"claimant-{run}-%"))).all()
        per_email = Counter(email for _number, email in cases)
        problems += [f"{email} has {count} cases (filed once)" for email, count in per_email.items() if count > 1]
        problems += [f"filed case {number} is not in the database" for number in ledger.filed
                     if number not in {found for found, _email in cases}]

        executed = Counter(session.exec(select(AuditEvent.subject_id).where(AuditEvent.action == "action.executed")))
        actions = session.exec(select(Action)).all()
        for action in actions:
            times = executed.get(str(action.id), 0)
            if times != (1 if action.status == ActionStatus.executed else 0):
                problems.append(f"action {action.id} ({action.status.value}) was executed {times} times")
            if action.status == ActionStatus.executed and action.kind.value == "unlock_account":
                account = session.get(Account, action.target_account_id)
                if account.status != AccountStatus.active:
                    problems.append(f"action {action.id} executed but account {account.id} is still locked")
        by_status = Counter(action.status.value for action in actions)
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()
    witnessed = [path for path in witnesses if Path(path).exists()]  # a server that signed no checkpoint has none
    verified = [_verify(None)] + [_verify(path) for path in witnessed]
    problems += [f"audit verify{' --witness ' + path if path else ''}: {output}"
                 for path, code, output in verified if code != 0]
    return {"evidence": len(evidence_rows), "cases": len(cases), "actions": dict(by_status), "audit_events": events,
            "witness_files_verified": len(witnessed),
            "problems": problems[:50], "problem_count": len(problems)}


def _verify(witness: str | None) -> tuple[str | None, int, str]:
    command = [sys.executable, "-m", "flask", "--app", "app", "audit", "verify"] + (["--witness", witness] if witness else [])
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    return witness, result.returncode, (result.stdout + result.stderr).strip()[-400:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", action="append", required=True, help="base URL of one app server (repeat)")
    parser.add_argument("--outbox", required=True, help="the servers' MAIL_OUTBOX_DIR")
    parser.add_argument("--public-url", default=os.environ.get("PUBLIC_URL", "https://desk.example.test"))
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--supervisors", type=int, default=3)
    parser.add_argument("--witness", action="append", default=[], help="a witness file to verify against (repeat)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    claimants = args.concurrency - args.agents - args.supervisors
    if claimants < 1:
        parser.error("--concurrency must leave room for claimants beside the agents and supervisors")

    run = uuid.uuid4().hex[:8]
    app = create_app()
    random.seed(args.seed)
    staff, people = seed(app, run, agents_count=args.agents, supervisors=args.supervisors,
                         identities=max(200, claimants * int(args.duration)))
    ledger = Ledger()
    load = Load(args, ledger, people, staff)
    threads = [threading.Thread(target=load.claimant_loop, name=f"claimant-{index}") for index in range(claimants)]
    threads += [threading.Thread(target=load.agent_loop, args=(member,), name=f"agent-{member.email}")
                for member in staff if member.role == Role.agent]
    threads += [threading.Thread(target=load.supervisor_loop, args=(member,), name=f"supervisor-{member.email}")
                for member in staff if member.role == Role.supervisor]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    found = check(app, ledger, args.witness, run)
    db.engine(app).dispose()
    requests_total = sum(ledger.statuses.values())
    result = {"ok": not ledger.errors and not found["problem_count"], "seconds": round(elapsed, 1),
              "connections": len(threads), "requests": requests_total, "steps": dict(ledger.steps),
              "filed": len(ledger.filed), "uploads": len(ledger.uploads), "http_errors": len(ledger.errors),
              "errors": ledger.errors[:30], **found, "statuses": dict(sorted(ledger.statuses.items()))}
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
