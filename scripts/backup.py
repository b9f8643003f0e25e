"""Backup and restore of every database and the PDF store, in one timestamped folder.

    python scripts/backup.py backup [--to FOLDER]          # make backup
    python scripts/backup.py restore BACKUP [--force]      # make restore BACKUP=var/backups/20261009T180000Z

The databases are the ones the processes use (each service's and the gateway's, from the same environment
variables, `eventops.config.Settings`): SQLite files are copied with SQLite's online backup, PostgreSQL
databases dumped with `pg_dump -Fc`. The PDF store (the folder or the S3 bucket and prefix of STORAGE_URL)
is copied file by file after the databases: a PDF is stored before its row says rendered, so every rendered
certificate in the dumps has its PDF in the copy. A manifest says what, when, from which code and which
migration heads, with a checksum of every file.

A restore goes into empty databases and an empty store, the ones the environment names (refused when they
hold anything, unless --force), checks every checksum before it writes anything, and checks the migration
heads afterwards. Backups hold personal data: the folder is 0700, its files 0600.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python scripts/backup.py` from anywhere
    sys.path.insert(0, str(REPO_ROOT))

from eventops.config import Settings, var_dir  # noqa: E402
from eventops.db import make_engine  # noqa: E402
from eventops.files import restrict_umask  # noqa: E402
from eventops.migrate import alembic_config  # noqa: E402
from services.certificates import storage  # noqa: E402

#: every process that owns a database
DATABASE_OWNERS = ("web", "registration", "certificates", "feedback")
#: the manifest's layout; a restore refuses one it does not know
FORMAT = 1
MANIFEST = "manifest.json"
STORE_FOLDER = "store"


class BackupRefused(RuntimeError):
    """What the operator must change before this backup or restore can go on."""


@dataclass(frozen=True)
class Database:
    url: str
    #: the processes whose tables it holds (several when they share one database)
    services: tuple[str, ...]

    @property
    def kind(self) -> str:
        backend = make_url(self.url).get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise BackupRefused(f"{self.services}: cannot back up a {backend} database")
        return backend

    @property
    def file_name(self) -> str:
        return "db-" + "+".join(self.services) + (".sqlite" if self.kind == "sqlite" else ".dump")

    def describe(self) -> str:
        """The URL without its password, for messages and the manifest."""
        return make_url(self.url).render_as_string(hide_password=True)


def configured_databases() -> list[Database]:
    """The databases the environment names, each once, with the processes that use it."""
    by_url: dict[str, list[str]] = {}
    for service in DATABASE_OWNERS:
        by_url.setdefault(Settings.from_env(service).database_url, []).append(service)
    return [Database(url, tuple(services)) for url, services in by_url.items()]


def configured_store() -> storage.Store:
    return storage.store(Settings.from_env("certificates"))


def describe_store(store: storage.Store) -> dict:
    if isinstance(store, storage.S3Storage):
        return {"kind": "s3", "location": f"s3://{store.bucket}/{store.prefix}"}
    return {"kind": "local", "location": str(getattr(store, "root", store))}


# --- files ------------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupRefused(f"{url}: an in-memory SQLite database has nothing to back up")
    return Path(database)


# --- PostgreSQL -------------------------------------------------------------------------------


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL as pg_dump and pg_restore take it, and the environment that carries its password (a
    password on a command line is readable by every user of the machine)."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupRefused(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout


def tool_version(tool: str) -> str:
    return run([tool, "--version"], dict(os.environ)).strip()


# --- what a database holds --------------------------------------------------------------------


def code_heads(service: str) -> list[str]:
    from alembic.script import ScriptDirectory

    return sorted(ScriptDirectory.from_config(alembic_config(service, "sqlite://")).get_heads())


def database_heads(url: str, services: tuple[str, ...]) -> dict[str, list[str] | None]:
    """Each service's migration heads as recorded in the database (None: it has no version table)."""
    engine = make_engine(url)
    heads: dict[str, list[str] | None] = {}
    try:
        with engine.connect() as connection:
            for service in services:
                try:
                    rows = connection.execute(text(f"SELECT version_num FROM alembic_version_{service}"))
                    heads[service] = sorted(row[0] for row in rows)
                except Exception:
                    connection.rollback()
                    heads[service] = None
    finally:
        engine.dispose()
    return heads


def is_empty(database: Database, target_url: str) -> bool:
    """True when the database holds no table at all (or, for SQLite, does not exist yet)."""
    if database.kind == "sqlite":
        path = sqlite_path(target_url)
        if not path.exists():
            return True
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            return (
                connection.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0] == 0
            )
    engine = make_engine(target_url)
    try:
        with engine.connect() as connection:
            tables = connection.execute(
                text(
                    "SELECT count(*) FROM pg_tables "
                    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
                )
            ).scalar_one()
    except Exception as exc:
        raise BackupRefused(
            f"cannot open {make_url(target_url).render_as_string(hide_password=True)} to restore into it "
            f"(create the empty database first): {exc}"
        ) from None
    finally:
        engine.dispose()
    return tables == 0


# --- backup -----------------------------------------------------------------------------------


def backup(parent: Path | None = None, *, now: datetime | None = None) -> Path:
    """Dumps every database and the store into a new folder under `parent` (var/backups); returns it."""
    restrict_umask()  # everything written from here on is for the owner alone
    parent = Path(parent) if parent else var_dir() / "backups"
    parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(parent, 0o700)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    final = parent / stamp
    suffix = 1
    while final.exists():
        final, suffix = parent / f"{stamp}-{suffix}", suffix + 1
    # Written under a name no restore would take, and renamed only when whole: an interrupted backup never
    # looks like a backup.
    work = parent / f".{final.name}.partial"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(mode=0o700)

    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "databases": [],
        "store": {},
    }
    used_pg_dump = False
    for database in configured_databases():
        out = work / database.file_name
        if database.kind == "sqlite":
            copy_sqlite(sqlite_path(database.url), out)
        else:
            target, env = libpq(database.url)
            run(["pg_dump", "--format=custom", "--no-owner", "--no-acl", f"--file={out}", target], env)
            used_pg_dump = True
        manifest["databases"].append(
            {
                "services": list(database.services),
                "kind": database.kind,
                "source": database.describe(),
                "file": out.name,
                "bytes": out.stat().st_size,
                "sha256": sha256(out),
                "migration_heads": database_heads(database.url, database.services),
            }
        )
    if used_pg_dump:
        manifest["versions"]["pg_dump"] = tool_version("pg_dump")

    # After the databases: every PDF a dumped row points to was stored before that row was committed.
    store = configured_store()
    files = {}
    for relative in store.paths():
        target = work / STORE_FOLDER / relative
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with store.open(relative) as source, open(target, "wb") as copy:
            shutil.copyfileobj(source, copy, storage.CHUNK)
        files[relative] = {"bytes": target.stat().st_size, "sha256": sha256(target)}
    manifest["store"] = {**describe_store(store), "files": files}

    (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    os.rename(work, final)
    return final


def copy_sqlite(source: Path, out: Path) -> None:
    """A consistent copy while the processes keep writing (SQLite's online backup, not a file copy)."""
    if not source.exists():
        raise BackupRefused(
            f"{source}: no such database (set the *_DATABASE_URL variables the processes use)"
        )
    with (
        sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src,
        sqlite3.connect(out) as dst,
    ):
        src.backup(dst)
    dst.close()
    src.close()


def versions() -> dict[str, object]:
    try:
        eventops = importlib.metadata.version("eventops")
    except importlib.metadata.PackageNotFoundError:
        eventops = "unknown"
    commit = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "eventops": eventops,
        "commit": commit or None,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "code_migration_heads": {service: code_heads(service) for service in DATABASE_OWNERS},
    }


# --- restore ----------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupRefused(f"{folder}: not a backup (no {MANIFEST}; an interrupted one ends in .partial)")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupRefused(f"{folder}: backup format {manifest.get('format')!r}, this code reads {FORMAT}")
    return manifest


def verify(folder: Path, manifest: dict) -> None:
    """Every file the manifest names is there with its checksum, before anything is written."""
    expected = {entry["file"]: entry["sha256"] for entry in manifest["databases"]}
    expected |= {
        f"{STORE_FOLDER}/{relative}": item["sha256"] for relative, item in manifest["store"]["files"].items()
    }
    for name, digest in expected.items():
        storage.checked_path(name)  # a manifest is a file like any other: it names nothing outside
        path = folder / name
        if not path.is_file() or sha256(path) != digest:
            raise BackupRefused(f"{folder}: {name} is missing or damaged (its checksum differs)")


def restore_targets(manifest: dict) -> list[tuple[dict, Database]]:
    """Each dumped database with the one the environment names for its services."""
    pairs = []
    for entry in manifest["databases"]:
        services = tuple(entry["services"])
        urls = {Settings.from_env(service).database_url for service in services}
        if len(urls) != 1:
            raise BackupRefused(
                f"{', '.join(services)} shared one database when backed up: give them one database "
                "(the same *_DATABASE_URL) to restore into"
            )
        target = Database(urls.pop(), services)
        if target.kind != entry["kind"]:
            raise BackupRefused(
                f"{', '.join(services)}: the backup is of a {entry['kind']} database, the target is "
                f"{target.kind} (moving between the two is not a restore)"
            )
        pairs.append((entry, target))
    return pairs


def restore(folder: Path, *, force: bool = False) -> dict:
    """Restores a backup into the databases and the store the environment names; returns what it did."""
    restrict_umask()
    folder = Path(folder)
    manifest = read_manifest(folder)
    verify(folder, manifest)
    pairs = restore_targets(manifest)
    store = configured_store()
    if not force:
        full = [target.describe() for _entry, target in pairs if not is_empty(target, target.url)]
        if next(iter(store.paths()), None) is not None:
            full.append(describe_store(store)["location"])
        if full:
            raise BackupRefused(
                f"not empty: {', '.join(full)}. A restore goes into empty databases and an empty store; "
                "--force restores over what is there"
            )
    for entry, target in pairs:
        dump = folder / entry["file"]
        if target.kind == "sqlite":
            path = sqlite_path(target.url)
            path.parent.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(f"file:{dump}?mode=ro", uri=True) as src, sqlite3.connect(path) as dst:
                src.backup(dst)
            dst.close()
            src.close()
        else:
            url, env = libpq(target.url)
            clean = ["--clean", "--if-exists"] if force else []
            run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--no-acl",
                    "--exit-on-error",
                    "--single-transaction",
                    *clean,
                    f"--dbname={url}",
                    str(dump),
                ],
                env,
            )
        restored = database_heads(target.url, target.services)
        if restored != entry["migration_heads"]:
            raise BackupRefused(
                f"{target.describe()}: migration heads {restored} after the restore, "
                f"{entry['migration_heads']} in the backup"
            )
    for relative, item in manifest["store"]["files"].items():
        data = (folder / STORE_FOLDER / relative).read_bytes()
        if hashlib.sha256(data).hexdigest() != item["sha256"]:
            raise BackupRefused(f"{relative} changed while it was being restored")
        store.write(relative, data)
    return {
        "databases": [target.describe() for _entry, target in pairs],
        "store": describe_store(store)["location"],
        "files": len(manifest["store"]["files"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="backup", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("backup", help="dump every database and the PDF store into a new folder")
    make.add_argument("--to", type=Path, help="the folder backups go into (default: var/backups)")
    back = sub.add_parser("restore", help="restore a backup into empty databases and an empty store")
    back.add_argument("backup", type=Path, help="the backup's folder")
    back.add_argument("--force", action="store_true", help="restore over databases and a store in use")
    args = parser.parse_args(argv)
    try:
        if args.command == "backup":
            print(backup(args.to))
        else:
            done = restore(args.backup, force=args.force)
            print(
                f"restored {len(done['databases'])} database(s) and {done['files']} file(s) "
                f"into {', '.join(done['databases'])} and {done['store']}"
            )
    except BackupRefused as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
