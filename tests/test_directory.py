"""The account directory, its admin CLI and the account sign-in page."""
import json

from sqlmodel import select

from support import db, imei
from support.models import AuditEvent


def add_account(runner, email="owner@example.test", password="right-password", phone=None):
    args = ["directory", "add-account", "--email", email, "--password-stdin"]
    if phone:
        args += ["--phone", phone]
    result = runner.invoke(args=args, input=password + "\n")
    assert result.exit_code == 0, result.output
    return result.output.strip()


def show(runner, login):
    result = runner.invoke(args=["directory", "show", login])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def sign_in(client, login, password):
    return client.post("/account/sign-in", data={"login": login, "password": password})


def test_ten_wrong_passwords_lock_the_account(client, runner, app):
    account_id = add_account(runner)
    assert account_id.isdigit() and len(account_id) == 10
    for attempt in range(9):
        assert "Wrong account or password" in sign_in(client, "owner@example.test", "wrong").text
    assert show(runner, account_id)["failed_attempts"] == 9
    page = sign_in(client, "owner@example.test", "wrong").text
    assert "locked" in page
    page = sign_in(client, "owner@example.test", "right-password").text
    assert 'id="locked"' in page and "Contact support" in page
    shown = show(runner, "owner@example.test")
    assert shown["status"] == "locked" and shown["failed_attempts"] == 10
    with db.transaction(app) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "account.locked")).all()
        assert [event.subject_id for event in events] == [account_id]


def test_success_resets_the_counter_and_logins_by_id_and_phone(client, runner):
    account_id = add_account(runner, phone="+39 333 123 4567")
    for _ in range(3):
        sign_in(client, account_id, "wrong")
    assert show(runner, account_id)["failed_attempts"] == 3
    assert 'id="signed-in"' in sign_in(client, "+393331234567", "right-password").text
    assert show(runner, account_id)["failed_attempts"] == 0
    assert 'id="signed-in"' in sign_in(client, account_id, "right-password").text


def test_lock_threshold_is_configurable(app_config, tmp_path):
    from support import create_app

    app = create_app({**app_config, "ACCOUNT_LOCK_THRESHOLD": 3})
    runner, client = app.test_cli_runner(), app.test_client()
    add_account(runner)
    for _ in range(3):
        sign_in(client, "owner@example.test", "wrong")
    assert show(runner, "owner@example.test")["status"] == "locked"
    db.engine(app).dispose()


def test_unknown_login_gets_the_same_answer(client):
    assert "Wrong account or password" in sign_in(client, "nobody@example.test", "x").text


def test_add_device_and_show(runner):
    add_account(runner)
    first, second = imei.generate(), imei.generate()
    result = runner.invoke(args=["directory", "add-device", "--imei1", first[:5] + " " + first[5:], "--imei2", second,
                                 "--serial", "S1", "--model", "Redmi Note 13", "--account", "owner@example.test"])
    assert result.exit_code == 0, result.output
    devices = show(runner, "owner@example.test")["devices"]
    assert [(d["imei1"], d["imei2"], d["model"]) for d in devices] == [(first, second, "Redmi Note 13")]
    again = runner.invoke(args=["directory", "add-device", "--imei1", first])
    assert again.exit_code != 0 and "already registered" in again.output


def test_add_device_refuses_a_bad_imei(runner):
    bad = imei.generate()[:14] + "0"
    if imei.is_valid(bad):
        bad = bad[:14] + "1"
    result = runner.invoke(args=["directory", "add-device", "--imei1", bad])
    assert result.exit_code == 2 and "check_digit" in result.output


def test_password_is_never_an_argument(runner):
    result = runner.invoke(args=["directory", "add-account", "--email", "a@example.test", "--password", "x"])
    assert result.exit_code == 2


def test_import_keeps_good_rows_and_reports_bad_ones(runner, tmp_path):
    good_imei, bad_imei = imei.generate(), "123456789012345"
    path = tmp_path / "directory.csv"
    path.write_text(
        "type,email,phone,password,imei1,imei2,serial,model,account,lost_or_stolen\n"
        "account,first@example.test,,pw-one,,,,,,\n"
        "account,first@example.test,,pw-two,,,,,,\n"
        f"device,,,,{good_imei},,SN1,Mi 11,first@example.test,yes\n"
        f"device,,,,{bad_imei},,,,,\n"
        "planet,,,,,,,,,\n"
    )
    result = runner.invoke(args=["directory", "import", str(path)])
    assert result.exit_code == 1
    assert "imported 2 rows (2 created, 0 updated, 0 unchanged), refused 3" in result.output
    for line in ("line 3:", "line 5:", "line 6:"):
        assert line in result.output
    devices = show(runner, "first@example.test")["devices"]
    assert devices[0]["imei1"] == good_imei and devices[0]["lost_or_stolen"] is True


def test_imei_rules():
    valid = imei.generate()
    assert imei.parse(f"{valid[:2]}-{valid[2:8]}/{valid[8:]}") == valid
    problems = {}
    for raw in ("", "12345678901234", valid + "1", valid[:14] + str((int(valid[14]) + 1) % 10), "35-abc"):
        try:
            imei.parse(raw)
        except imei.InvalidImei as error:
            problems[raw] = error.problem.value
    assert list(problems.values()) == ["empty", "too_short", "imeisv", "check_digit", "not_digits"]
