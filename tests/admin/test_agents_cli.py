"""`flask agents ...`: the same operations as /admin/agents, audited with the command line as actor."""
from __future__ import annotations

from sqlmodel import select

from support.models import Agent, AuditEvent, Role
from support.passwords import is_usable

NEW_PASSWORD = "a long new password"


def last_event(tx) -> AuditEvent:
    with tx() as session:
        return session.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()


def test_invite_from_the_command_line(app, runner, tx, outbox, mailed_link, make_agent):
    result = runner.invoke(args=["agents", "invite", "Cli.Agent@example.test", "--name", "Carla Cli",
                                 "--role", "auditor", "--language", "it"])
    assert result.exit_code == 0, result.output
    assert "invited" in result.output
    event = last_event(tx)
    assert (event.action, event.actor_type, event.after["role"]) == ("agent.invited", "cli", "auditor")
    with tx() as session:
        invited = session.exec(select(Agent).where(Agent.email == "cli.agent@example.test")).one()
    assert not is_usable(invited.password_hash) and invited.language == "it"
    [sent] = [sent for sent in outbox() if sent.to == "cli.agent@example.test"]
    assert sent.subject != "You are invited to Recovery Desk"  # in Italian, as asked
    link = mailed_link("cli.agent@example.test")
    done = app.test_client().post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303 and done.location == "/"  # an auditor needs no TOTP
    taken = make_agent(Role.agent)
    again = runner.invoke(args=["agents", "invite", taken.email, "--name", "Twice"])
    assert again.exit_code == 1 and "already exists" in again.output


def test_reset_password_reactivate_and_the_last_admin(app, runner, tx, outbox, make_agent):
    agent = make_agent(Role.agent)
    result = runner.invoke(args=["agents", "reset-password", agent.email])
    assert result.exit_code == 0, result.output
    assert last_event(tx).action == "agent.password_reset"
    assert app.test_client().post("/agent/sign-in", data={"email": agent.email, "password": "correct horse battery"}
                                  ).status_code == 200
    assert [sent.to for sent in outbox()] == [agent.email]

    assert runner.invoke(args=["agents", "deactivate", agent.email]).exit_code == 0
    assert runner.invoke(args=["agents", "reactivate", agent.email]).exit_code == 0
    assert last_event(tx).action == "agent.reactivated"
    assert runner.invoke(args=["agents", "activate", agent.email]).exit_code == 0  # the older name still works

    only_admin = make_agent(Role.admin)
    refused = runner.invoke(args=["agents", "deactivate", only_admin.email])
    assert refused.exit_code == 1 and "last active admin" in refused.output
    demoted = runner.invoke(args=["agents", "set-role", only_admin.email, "agent"])
    assert demoted.exit_code == 1 and "last active admin" in demoted.output
    with tx() as session:
        assert session.get(Agent, only_admin.id).active and session.get(Agent, only_admin.id).role == Role.admin
    make_agent(Role.admin)
    assert runner.invoke(args=["agents", "set-role", only_admin.email, "agent"]).exit_code == 0


def test_create_agent_still_works(runner, tx):
    result = runner.invoke(args=["create-agent", "old@example.test", "--name", "Old Way", "--password-stdin"],
                           input="correct horse battery\n")
    assert result.exit_code == 0, result.output
    assert last_event(tx).action == "agent.created"
