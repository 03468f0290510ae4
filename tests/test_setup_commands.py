"""init-db and seed-demo: idempotent, and the demo data looks like the issue says."""
from sqlmodel import func, select

from support import db, demo_cases, imei
from support.models import Account, AccountStatus, Agent, Case, CaseStatus, Device


def test_init_db_is_idempotent(runner):
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "latest schema" in result.output


def test_seed_demo_runs_once_and_verifies(runner, app, monkeypatch):
    # one case per status: the 200 of the real mix draw their evidence for half a minute, and
    # tests/review/test_review_bench_demo.py checks what the cases of each status carry
    monkeypatch.setattr(demo_cases, "MIX", [(status, 1) for status in CaseStatus])
    first = runner.invoke(args=["seed-demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "supervisor@demo.test" in first.output and "demo-supervisor-password" in first.output
    assert "dpo@demo.test" in first.output  # the data-protection officer (/privacy/erasure)
    second = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "nothing added" in second.output
    with db.transaction(app) as session:
        accounts = session.exec(select(Account)).all()
        devices = session.exec(select(Device)).all()
        roles = {agent.role.value for agent in session.exec(select(Agent))}
        assert session.exec(select(func.count()).select_from(Agent)).one() == 5
        assert session.exec(select(func.count()).select_from(Case)).one() == len(CaseStatus)
    assert len(accounts) == 50 and len(devices) == 80
    assert roles == {"agent", "supervisor", "auditor", "admin", "dpo"}
    locked = [a for a in accounts if a.status == AccountStatus.locked]
    assert locked and all(a.failed_attempts == 10 and a.locked_at for a in locked)
    assert any(a.email is None and a.phone is None for a in accounts)
    assert all(imei.is_valid(d.imei1) and (d.imei2 is None or imei.is_valid(d.imei2)) for d in devices)
    assert any(d.imei2 for d in devices) and any(d.lost_or_stolen for d in devices)
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
