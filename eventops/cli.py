"""Operator commands: `python -m eventops.cli migrate`, `... revision SERVICE -m MSG`."""

from __future__ import annotations

import argparse

from alembic import command

from eventops.config import Settings
from eventops.migrate import alembic_config, upgrade

SERVICES_WITH_DATABASES = ("web", "registration", "certificates", "feedback")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="eventops")
    sub = parser.add_subparsers(dest="command", required=True)
    migrate = sub.add_parser("migrate", help="upgrade every database to the newest schema")
    migrate.add_argument("services", nargs="*", default=list(SERVICES_WITH_DATABASES))
    revision = sub.add_parser("revision", help="autogenerate a migration for one service")
    revision.add_argument("service", choices=SERVICES_WITH_DATABASES)
    revision.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)

    if args.command == "migrate":
        for service in args.services:
            upgrade(service, Settings.from_env(service).database_url)
            print(f"{service}: database is up to date")
    elif args.command == "revision":
        config = alembic_config(args.service, Settings.from_env(args.service).database_url)
        command.revision(config, message=args.message, autogenerate=True)


if __name__ == "__main__":
    main()
