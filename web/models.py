"""The gateway's own tables: staff accounts. Business data lives in the services."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, Enum, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from eventops.db import new_metadata, utcnow


class Base(DeclarativeBase):
    metadata = new_metadata()


class Role(str, enum.Enum):
    #: check-in staff at the door and in session rooms
    checkin = "checkin"
    organiser = "organiser"
    admin = "admin"


class StaffAccount(Base):
    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: what the person types to log in; stored lower-case
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    #: argon2id hash, parameters included
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    #: raised by a logout, a new password and a deactivation: a session made under an older version
    #: (a copied cookie, a tablet left logged in) is refused when it is next confirmed
    session_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
