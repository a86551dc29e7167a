"""``python -m recsys users ...``: add / list / grant / revoke / remove / reset-password, and a
one-line error with exit status 1 for each refusal (the CLI's ``main`` in this process, with
passwords on standard input as ``--password-stdin`` reads them)."""

from __future__ import annotations

import io
from typing import Protocol

import pytest

from recsys.access import invites
from recsys.config import Settings
from recsys.store import Store, accounts
from recsys.store.accounts import check_password
from tests.support.cli import CliResult, cli, one_line_error
from tests.support.narrow import present

PASSWORD = "Secret#123"


class Run(Protocol):
    """``run("add", "bob", stdin=...)``: ``python -m recsys users add bob`` in this process."""

    def __call__(self, *args: str, stdin: str = "") -> CliResult: ...


@pytest.fixture
def run(app_settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    def _run(*args: str, stdin: str = "") -> CliResult:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return cli(capsys, "users", *args)

    return _run


def roles(settings: Settings) -> dict[str, str]:
    with Store.open(settings.store_url) as store:
        return {u.username: u.role for u in store.list_users()}


def test_users_add_list_grant_revoke_reset_remove(app_settings: Settings, run: Run) -> None:
    ok = run(
        "add", "root", "--email", "root@example.com", "--name", "Root Admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert ok.returncode == 0 and "Added root (admin)." in ok.stdout  # the first account
    ok = run("add", "Ann", "--email", "ann@example.com", "--name", "Ann", "--role", "analyst", "--password-stdin",
             stdin="a long passphrase with spaces in it\n")  # fmt: skip
    assert ok.returncode == 0 and "Added ann (analyst)." in ok.stdout
    run("add", "bob", "--email", "bob@example.com", "--name", "Bob", "--password-stdin", stdin=PASSWORD + "\n")
    assert roles(app_settings) == {"root": "admin", "ann": "analyst", "bob": "tester"}

    listed = run("list")
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["USERNAME", "NAME", "EMAIL", "ROLE", "CREATED"]
    assert [line.split()[0] for line in lines[1:]] == ["root", "ann", "bob"]
    assert "Root Admin" in lines[1] and "root@example.com" in lines[1] and " admin " in lines[1]

    assert run("grant", "bob", "admin").returncode == 0
    assert run("revoke", "ann", "analyst").returncode == 0
    assert roles(app_settings) == {"root": "admin", "ann": "tester", "bob": "admin"}
    assert run("revoke", "root", "admin").returncode == 0  # bob is admin too now
    assert roles(app_settings)["root"] == "tester"

    with Store.open(app_settings.store_url) as store:
        version = present(store.get_user("ann")).session_version
    assert run("reset-password", "ann", "--password-stdin", stdin="Brand#New99\n").returncode == 0
    with Store.open(app_settings.store_url) as store:
        ann = store.get_user("ann")
    assert ann is not None and check_password("Brand#New99", ann.password_hash)
    assert ann.session_version > version  # her cookies stop working

    removed = run("remove", "ann")
    assert removed.returncode == 0 and "Removed ann" in removed.stdout
    assert set(roles(app_settings)) == {"root", "bob"}


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        (("add", "alice", "--email", "x@example.com", "--name", "X", "--password-stdin"), PASSWORD, "username is already"),
        (("add", "zed", "--email", "z@example.com", "--name", "Z", "--password-stdin"), "short", "8 to 128"),
        (("add", "zed", "--email", "z@example.com", "--name", "Z", "--password-stdin"), "Password1!", "most common"),
        (("add", "zed", "--email", "z@example.com", "--name", "Z", "--password-stdin"), "", "no password"),
        (("add", "zed", "--email", "z@example.com", "--name", "Z", "--role", "boss", "--password-stdin"), PASSWORD,
         "Unknown role 'boss'"),
        (("grant", "nobody", "admin"), "", "No account named 'nobody'"),
        (("grant", "bob", "root"), "", "Unknown role 'root'"),
        (("revoke", "bob", "analyst"), "", "bob is tester, not analyst"),
        (("revoke", "alice", "admin"), "", "only admin"),
        (("remove", "alice"), "", "only admin"),
        (("remove", "nobody"), "", "No account named"),
        (("reset-password", "nobody", "--password-stdin"), PASSWORD, "No account named"),
        (("reset-password", "bob", "--password-stdin"), "weak", "Password must"),
    ],
)  # fmt: skip
def test_users_refusals_are_one_line_and_exit_1(
    app_settings: Settings,
    run: Run,
    args: tuple[str, ...],
    stdin: str,
    says: str,
) -> None:
    with Store.open(app_settings.store_url) as store:
        accounts.register(store, "alice", "Alice", "alice@example.com", PASSWORD)  # the admin
        accounts.register(store, "bob", "Bob", "bob@example.com", PASSWORD)
    before = roles(app_settings)
    line = one_line_error(run(*args, stdin=stdin + "\n" if stdin else ""))
    assert says in line, line
    assert roles(app_settings) == before  # nothing changed


def test_users_invite_prints_a_one_time_link_and_invites_lists_it(app_settings: Settings, run: Run) -> None:
    run("add", "root", "--email", "root@example.com", "--name", "Root", "--password-stdin", stdin=PASSWORD + "\n")
    assert run("invites").stdout == "No invites yet; make one with `python -m recsys users invite --role tester`.\n"
    made = run("invite", "--role", "tester", "--base-url", "https://office.example/", "--by", "root")
    assert made.returncode == 0, made.stderr
    first, link = made.stdout.splitlines()
    assert first.startswith("Invite for a tester, works once until ")
    assert (
        link.startswith("https://office.example/?invite=") and len(link) > len("https://office.example/?invite=") + 30
    )
    with Store.open(app_settings.store_url) as store:
        bob = invites.register(store, link.split("=", 1)[1], "bob", "Bob", "bob@example.com", PASSWORD)
    assert bob.role == "tester"
    listed = run("invites").stdout.splitlines()
    assert listed[0].split() == ["ID", "ROLE", "STATUS", "CREATED", "CREATED", "BY", "EXPIRES", "USED", "BY"]
    assert listed[1].split()[:3] == ["1", "tester", "used"] and listed[1].split()[-1] == "bob"
    refused = run("invite", "--role", "boss")
    assert (
        refused.returncode == 1
        and one_line_error(refused) == "error: Unknown role 'boss'; choose one of admin, analyst, tester."
    )
