"""``python -m recsys users ...``: manage accounts headlessly (same rules as the app).

    users add USERNAME --email E --name N [--role R] [--password-stdin]
    users list
    users grant USERNAME ROLE
    users revoke USERNAME ROLE
    users remove USERNAME
    users reset-password USERNAME [--password-stdin]
    users invite [--role R] [--hours H] [--base-url URL] [--by USERNAME]
    users invites

Passwords come from standard input with ``--password-stdin`` (the first line, without its line
end), else from a prompt that does not echo (typed twice). Every refusal is one ``error:`` line
and exit status 1.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from types import ModuleType
from typing import TYPE_CHECKING

from recsys.access.roles import ROLES
from recsys.config import Settings
from recsys.errors import CineBlendError, RegistrationError

if TYPE_CHECKING:
    from recsys.store import Store


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
        if not password:
            raise CineBlendError("no password on standard input; pipe one line, e.g. `printf '%s\\n' PASS | ...`")
        return password
    try:
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Repeat password: ")
    except EOFError as exc:
        raise CineBlendError("no password typed; use --password-stdin to pipe one") from exc
    if first != second:
        raise CineBlendError("the two passwords differ; run the command again")
    return first


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from recsys.app import users
    from recsys.store import Store

    try:
        with Store.open(settings.store_url) as store:
            return _ACTIONS[args.users_command](args, settings, store, users)
    except RegistrationError as exc:  # one line: every broken rule
        raise CineBlendError(" ".join(exc.problems)) from exc
    except ValueError as exc:
        raise CineBlendError(str(exc)) from exc


def _add(args: argparse.Namespace, settings: Settings, store: Store, users: ModuleType) -> int:
    users.check_role(args.role) if args.role else None  # before asking for a password
    user = users.add(store, args.username, args.name, args.email, _password(args), role=args.role)
    print(f"Added {user.username} ({user.role}).")
    return 0


def _list(args: argparse.Namespace, settings: Settings, store: Store, users: ModuleType) -> int:
    rows = users.table(store)
    if not rows:
        print("No accounts yet; add the first (it becomes the admin) with `python -m recsys users add`.")
        return 0
    columns = ("username", "name", "email", "role", "created")
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    print("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        print("  ".join(row[c].ljust(widths[c]) for c in columns).rstrip())
    return 0


def _grant(args: argparse.Namespace, settings: Settings, store: Store, users: ModuleType) -> int:
    user = users.grant(store, args.username, args.role)
    print(f"{user.username} is now {user.role}; their open sessions must sign in again.")
    return 0


def _revoke(args: argparse.Namespace, settings: Settings, store: Store, users: ModuleType) -> int:
    user = users.revoke(store, args.username, args.role)
    print(f"{user.username} is now {user.role}; their open sessions must sign in again.")
    return 0


def _remove(args: argparse.Namespace, settings: Settings, store: Store, users: ModuleType) -> int:
    removal = users.remove(store, args.username, settings.models_dir, settings.data_dir, settings.store_url)
    models = f"; removed from {len(removal.model_versions)} saved model version(s)" if removal.model_versions else ""
    print(f"Removed {removal.username} with their ratings, history and hidden titles{models}.")
    return 0


def _reset_password(args: argparse.Namespace, settings: Settings, store: Store, users: ModuleType) -> int:
    user = users.get(store, args.username)  # unknown user: fail before asking for a password
    users.reset_password(store, user.username, _password(args))
    print(f"Password of {user.username} reset; their open sessions must sign in again.")
    return 0


def _invite(args: argparse.Namespace, settings: Settings, store: Store, users: ModuleType) -> int:
    from recsys.access import invites

    by = users.get(store, args.by).username if args.by else None
    new = invites.create(store, args.role, created_by=by, hours=args.hours)
    print(f"Invite for a {new.invite.role}, works once until {new.invite.expires_at:%Y-%m-%d %H:%M} UTC:")
    print(new.link(args.base_url or settings.public_url))
    return 0


def _invites(args: argparse.Namespace, settings: Settings, store: Store, users: ModuleType) -> int:
    from recsys.access import invites

    rows = invites.listing(store)
    if not rows:
        print("No invites yet; make one with `python -m recsys users invite --role tester`.")
        return 0
    columns = ("id", "role", "status", "created", "created by", "expires", "used by")
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    print("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        print("  ".join(row[c].ljust(widths[c]) for c in columns).rstrip())
    return 0


_ACTIONS = {
    "invite": _invite,
    "invites": _invites,
    "add": _add,
    "list": _list,
    "grant": _grant,
    "revoke": _revoke,
    "remove": _remove,
    "reset-password": _reset_password,
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``users`` and its subcommands on the main parser's subparsers."""
    p = sub.add_parser(
        "users",
        help="manage accounts: add, list, grant, revoke, remove, reset-password, invite",
        description="Manage the app's accounts in the store (DATABASE_URL or data/app.db). Roles: "
        f"{', '.join(ROLES)}; the first account of a fresh install is the admin.",
    )
    p.set_defaults(func=_run)
    users = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    role_help = f"one of {', '.join(ROLES)}"

    q = users.add_parser("add", help="add an account (password from a prompt or --password-stdin)")
    q.add_argument("username")
    q.add_argument("--email", required=True)
    q.add_argument("--name", required=True)
    q.add_argument("--role", help=f"{role_help} (default tester; the first account is admin)")
    q.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    users.add_parser("list", help="every account: username, name, email, role, created")

    q = users.add_parser("grant", help="give an account a role")
    q.add_argument("username")
    q.add_argument("role", help=role_help)

    q = users.add_parser("revoke", help="take a role away (the account becomes a tester)")
    q.add_argument("username")
    q.add_argument("role", help=role_help)

    q = users.add_parser("remove", help="delete an account, its ratings and its rows in the saved models")
    q.add_argument("username")

    q = users.add_parser("reset-password", help="set a new password (ends the account's sessions)")
    q.add_argument("username")
    q.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    q = users.add_parser("invite", help="print a one-time invite link (registers past the per-address limit)")
    q.add_argument("--role", default="tester", help=f"{role_help} (default tester)")
    q.add_argument("--hours", type=float, default=72.0, help="hours the link works (default 72, at most 720)")
    q.add_argument(
        "--base-url", help="the app's address in the link (default CINEBLEND_PUBLIC_URL or http://localhost:8501)"
    )
    q.add_argument("--by", metavar="USERNAME", help="the admin recorded as the invite's creator")

    users.add_parser("invites", help="every invite: role, status (open, used, expired), who used it")
