"""Staff account commands: `python -m web.cli create-demo-staff`, `python -m web.cli create-staff ...`."""

from __future__ import annotations

import argparse
import getpass
import secrets

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from eventops.config import Settings, var_dir
from eventops.db import make_engine
from web.auth import hash_password
from web.models import Role, StaffAccount

DEMO_STAFF = [
    ("admin", "Администратор", Role.admin),
    ("organiser", "Ольга Организаторова", Role.organiser),
    ("checkin", "Сергей Регистраторов", Role.checkin),
]


def create_staff(username: str, full_name: str, role: Role, password: str) -> bool:
    """Creates the account; returns False (and changes nothing) if the username is taken."""
    Session = sessionmaker(make_engine(Settings.from_env("web").database_url))
    with Session() as session:
        if session.scalar(select(StaffAccount).where(StaffAccount.username == username.lower())):
            return False
        session.add(
            StaffAccount(
                username=username.lower(),
                full_name=full_name,
                role=role,
                password_hash=hash_password(password),
            )
        )
        session.commit()
        return True


def demo_password(username: str) -> str:
    """Demo passwords are random per machine and kept under var/, so no password is ever in git."""
    path = var_dir() / f"demo-password-{username}"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(9))
        path.chmod(0o600)
    return path.read_text().strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="web.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("create-demo-staff")
    create = sub.add_parser("create-staff")
    create.add_argument("username")
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=[r.value for r in Role], required=True)
    args = parser.parse_args(argv)

    if args.command == "create-demo-staff":
        for username, full_name, role in DEMO_STAFF:
            password = demo_password(username)
            create_staff(username, full_name, role, password)
            print(f"login: {username} password: {password} role: {role.value}")
    else:
        password = getpass.getpass("Password (at least 10 characters): ")
        if len(password) < 10:
            raise SystemExit("The password is too short.")
        created = create_staff(args.username, args.name, Role(args.role), password)
        print("created" if created else "this username is taken; nothing changed")


if __name__ == "__main__":
    main()
