"""The directory follows the vendor's feeds: flag-lost, bind, unbind and an import that
updates rows, each audited with its reason and followed by the re-checks of the open cases
about the device or account. And a sign-in to the bound account re-checks them too."""
from __future__ import annotations

from filed_claims import jpeg, needs_poppler
from sqlmodel import func, select

from support import actions, cases, db, imei
from support.audit import SYSTEM
from support.models import Account, Action, ActionStatus, Agent, AuditEvent, CaseStatus, Device, Role, utcnow
from support.stepup import SteppedUp

pytestmark = needs_poppler

RED, BLUE = (200, 30, 30), (30, 30, 200)


def events(app, name: str) -> list[AuditEvent]:
    with app.app_context(), db.transaction(app) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == name).order_by(AuditEvent.seq)))


def invoke(runner, *args):
    return runner.invoke(args=["directory", *args])


def confirmed_claim(file_claim, **fields):
    filed = file_claim(jpeg(RED), jpeg(BLUE), **fields)
    assert filed.client.get(filed.confirm_path).status_code == 200
    return filed


def scheduled_unbind(app, number: str, make_agent) -> int:
    """The case approved, its force-unbind requested and approved (the cooling-off running)."""
    agent, supervisor = make_agent(Role.agent), make_agent(Role.supervisor)
    with app.app_context(), db.transaction(app) as session:
        case = cases.get_by_number(session, number)
        for status in (CaseStatus.in_review, CaseStatus.approved):
            cases.transition(session, case, status, actor=SYSTEM)
        action = actions.request(session, case, requester=session.get(Agent, agent.id),
                                 step_up=SteppedUp(agent.id, utcnow()), config=app.config).action
        actions.approve(session, action, approver=session.get(Agent, supervisor.id),
                        step_up=SteppedUp(supervisor.id, utcnow()), config=app.config)
        assert action.status == ActionStatus.scheduled
        return action.id


def test_flag_lost_after_approval_voids_the_action_at_once_and_clear_rechecks(
        app, runner, file_claim, agrees, make_agent, make_account, make_device):
    device = make_device(account=make_account(email="old@example.test"))
    filed = confirmed_claim(file_claim, imei1=device.imei1)
    action_id = scheduled_unbind(app, filed.number, make_agent)
    assert agrees(filed.number)["lost_or_stolen"] == "pass"

    result = invoke(runner, "flag-lost", device.imei1, "--reason", "vendor report 7781")

    assert result.exit_code == 0, result.output
    assert f"re-checked {filed.number}" in result.output
    assert agrees(filed.number)["lost_or_stolen"] == "fail"
    with app.app_context(), db.transaction(app) as session:
        assert session.get(Action, action_id).status == ActionStatus.cancelled
    [flagged] = events(app, "device.flagged_lost")
    [voided] = events(app, "action.voided")
    assert (flagged.actor_type, flagged.reason, flagged.after["lost_or_stolen"]) == ("cli", "vendor report 7781", True)
    assert voided.seq == flagged.seq + 1  # the same transaction, in order

    again = invoke(runner, "flag-lost", device.imei1)
    assert again.exit_code == 0 and "already flagged lost or stolen: nothing changed" in again.output
    assert len(events(app, "device.flagged_lost")) == 1

    cleared = invoke(runner, "flag-lost", device.imei1, "--clear", "--reason", "found by the owner")
    assert cleared.exit_code == 0, cleared.output
    assert agrees(filed.number)["lost_or_stolen"] == "pass"
    assert events(app, "device.flag_cleared")[0].reason == "found by the owner"
    with app.app_context(), db.transaction(app) as session:
        assert session.get(Action, action_id).status == ActionStatus.cancelled  # a void is final: request again


def test_bind_and_unbind_recheck_the_account_match(app, runner, file_claim, agrees, stored, make_account,
                                                   make_device):
    account = make_account(email="old@example.test")
    device = make_device()
    filed = confirmed_claim(file_claim, imei1=device.imei1)
    assert agrees(filed.number)["account_match"] == "warn"  # not bound: nothing to compare

    bound = invoke(runner, "bind", device.imei1, str(account.id), "--reason", "vendor sync")
    assert bound.exit_code == 0, bound.output
    assert agrees(filed.number)["account_match"] == "pass"
    assert events(app, "device.bound")[0].after["account_id"] == account.id

    twice = invoke(runner, "bind", device.imei1, str(account.id))
    assert twice.exit_code == 1 and "already bound" in twice.output

    unbound = invoke(runner, "unbind", device.imei1, "--reason", "sold back to the shop")
    assert unbound.exit_code == 0, unbound.output
    assert f"unbound from account {account.id}" in unbound.output
    assert agrees(filed.number)["account_match"] == "warn"
    assert events(app, "device.unbound")[0].before["account_id"] == account.id
    assert invoke(runner, "unbind", device.imei1).exit_code == 1


def test_a_device_added_after_the_case_makes_its_imei_known(runner, file_claim, agrees):
    unknown = imei.generate()
    filed = confirmed_claim(file_claim, imei1=unknown)
    assert agrees(filed.number)["imei_known"] == "fail"

    result = invoke(runner, "add-device", "--imei1", unknown, "--model", "Phone 12")

    assert result.exit_code == 0 and f"re-checked {filed.number}" in result.output
    assert agrees(filed.number)["imei_known"] == "pass"


def test_directory_commands_name_what_is_wrong(runner, make_device):
    unknown = imei.generate()
    result = invoke(runner, "flag-lost", unknown)
    assert result.exit_code == 1 and f"no device with IMEI {unknown}" in result.output
    bad = imei.generate()[:14] + "0"
    bad = bad if not imei.is_valid(bad) else bad[:14] + "1"
    result = invoke(runner, "bind", bad, "1234567890")
    assert result.exit_code == 2 and "not a valid IMEI" in result.output
    device = make_device()
    result = invoke(runner, "bind", device.imei1, "nobody@example.test")
    assert result.exit_code == 1 and "no account nobody@example.test" in result.output
    assert invoke(runner, "unbind", unknown).exit_code == 1


def test_import_updates_rows_reports_each_change_and_never_duplicates(app, runner, tmp_path, file_claim, agrees,
                                                                     make_account, make_device):
    owner = make_account(email="old@example.test")
    other = make_account(email="someone@example.test")
    device = make_device(account=owner, model="Redmi 12C")
    second = make_device()
    filed = confirmed_claim(file_claim, imei1=device.imei1)
    assert agrees(filed.number)["account_match"] == "pass"
    path = tmp_path / "feed.csv"
    path.write_text(
        "type,id,email,phone,password,imei1,imei2,serial,model,account,lost_or_stolen\n"
        f"device,,,,,{device.imei1},,,Redmi Note 13,{other.id},yes\n"
        f"device,,,,,{second.imei1},,,,,\n"
        f"account,{owner.id},,+39 333 1234567,,,,,,,\n"
        "account,5550001234,new@example.test,,pw-new,,,,,,\n"
        f"device,,,,,{device.imei1},{second.imei1},,,,\n"
    )

    result = invoke(runner, "import", str(path))

    assert result.exit_code == 1
    assert (f"line 2: device {device.imei1} updated: account_id {owner.id} -> {other.id}, lost_or_stolen False -> True, "
            "model Redmi 12C -> Redmi Note 13") in result.output
    assert f"line 3: device {second.imei1} unchanged" in result.output
    assert f"line 4: account {owner.id} updated: phone None -> +393331234567" in result.output
    assert "line 5: account 5550001234 created" in result.output
    assert "line 6: IMEIs" in result.output and "two different devices" in result.output
    assert "imported 4 rows (1 created, 2 updated, 1 unchanged), refused 1" in result.output
    results = agrees(filed.number)
    assert results["account_match"] == "fail" and results["lost_or_stolen"] == "fail"
    with app.app_context(), db.transaction(app) as session:
        assert session.exec(select(func.count()).select_from(Device)).one() == 2
        assert session.get(Account, 5550001234).email == "new@example.test"
    [updated] = [event for event in events(app, "device.updated") if event.subject_id == str(device.id)]
    assert updated.reason == "directory import" and updated.before["account_id"] == owner.id

    clear = tmp_path / "clear.csv"
    clear.write_text(f"type,imei1,account,lost_or_stolen\ndevice,{device.imei1},-,no\n")
    assert invoke(runner, "import", str(clear)).exit_code == 0
    results = agrees(filed.number)
    assert results["account_match"] == "warn" and results["lost_or_stolen"] == "pass"


def test_import_refuses_to_duplicate_an_account_without_its_id(runner, tmp_path, make_account):
    account = make_account(email="taken@example.test")
    path = tmp_path / "feed.csv"
    path.write_text("type,id,email,password\n"
                    "account,,taken@example.test,pw\n"
                    f"account,{account.id},taken@example.test,\n")
    result = invoke(runner, "import", str(path))
    assert result.exit_code == 1
    assert "line 2: email taken@example.test already has an account" in result.output
    assert f"line 3: account {account.id} unchanged" in result.output


def test_a_sign_in_to_the_bound_account_rechecks_its_cases(app, client, file_claim, agrees, make_account,
                                                          make_device):
    account = make_account(email="old@example.test", password="owner-password")
    device = make_device(account=account)
    filed = confirmed_claim(file_claim, imei1=device.imei1)
    assert agrees(filed.number)["account_used"] == "pass"

    wrong = client.post("/account/sign-in", data={"login": "old@example.test", "password": "guess"})
    assert "Wrong account or password" in wrong.text
    assert agrees(filed.number)["account_used"] == "pass"

    client.post("/account/sign-in", data={"login": "old@example.test", "password": "owner-password"})

    assert agrees(filed.number)["account_used"] == "warn"


def test_no_page_or_report_contradicts_the_case_after_any_fact_change(app, runner, client, tmp_path, file_claim,
                                                                      agrees, make_account, make_device):
    """One case walked through every change its checks read; after each, every check it keeps
    is what the checks say now, and the page and the PDF show exactly that."""
    owner = make_account(email="old@example.test", password="owner-password")
    device = make_device(account=owner)
    filed = file_claim(jpeg(RED), jpeg(BLUE), imei1=device.imei1)
    feed = tmp_path / "feed.csv"
    feed.write_text(f"type,imei1,account\ndevice,{device.imei1},-\n")
    steps = [
        ("contact_confirmed", "pass", lambda: filed.client.get(filed.confirm_path)),
        ("same_evidence", "fail", lambda: file_claim(jpeg(RED), jpeg((1, 2, 3)))),
        ("same_imei", "warn", lambda: file_claim(jpeg((4, 5, 6)), jpeg((7, 8, 9)), imei1=device.imei1)),
        ("image_edited", "fail", lambda: filed.add_evidence("device_photo", _edited_jpeg())),
        ("lost_or_stolen", "fail", lambda: invoke(runner, "flag-lost", device.imei1)),
        ("lost_or_stolen", "pass", lambda: invoke(runner, "flag-lost", device.imei1, "--clear")),
        ("account_used", "warn", lambda: client.post("/account/sign-in", data={"login": "old@example.test",
                                                                              "password": "owner-password"})),
        ("account_match", "warn", lambda: invoke(runner, "import", str(feed))),
        ("account_match", "pass", lambda: invoke(runner, "bind", device.imei1, str(owner.id))),
        ("account_match", "warn", lambda: invoke(runner, "unbind", device.imei1)),
    ]
    for code, expected, change in steps:
        change()
        assert agrees(filed.number)[code] == expected, code


def _edited_jpeg() -> bytes:
    import io

    from PIL import Image

    exif = Image.Exif()
    exif[0x0131] = "Adobe Photoshop 25.0"
    output = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 90, 0)).save(output, "JPEG", exif=exif.tobytes())
    return output.getvalue()
