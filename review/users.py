"""Reviewer accounts in the review database: a name (any script, shown as given), a role, an argon2
password hash (argon2-cffi; never a hash of our own) and a personal API token kept as its sha256."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select

from nerd.errors import InputError, NerdError
from nerd.review.events import now
from nerd.review.store import ReviewStore
from nerd.review.tables import UserRow

if TYPE_CHECKING:
    from argon2 import PasswordHasher

NAME_MAX = 100
TOKEN_PREFIX = "nrv_"


class Role(StrEnum):
    reviewer = "reviewer"  # decides the items they are served
    adjudicator = "adjudicator"  # also settles conflicts, reads the stats, exports


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    disabled: bool
    has_password: bool
    has_token: bool


class UserError(NerdError):
    """A user that cannot be added or changed as asked."""


def display_name(name: str) -> str:
    """A reviewer's name as it will be shown: trimmed, any letters, spaces and marks, no control or
    invisible formatting characters (which could make two names look alike).

    >>> display_name("  Anna Smith "), display_name("O'Brien"), display_name("Zoë 🦊")
    ('Anna Smith', "O'Brien", 'Zoë 🦊')
    """
    cleaned = unicodedata.normalize("NFC", name.strip())
    if not cleaned:
        raise InputError("a name needs at least one character", field="name")
    if len(cleaned) > NAME_MAX:
        raise InputError(f"a name is at most {NAME_MAX} characters ({len(cleaned)} given)", field="name")
    for character in cleaned:
        if unicodedata.category(character) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"):
            raise InputError(f"a name cannot hold the character U+{ord(character):04X}", field="name")
    return cleaned


_hasher: PasswordHasher | None = None


def _password_hasher() -> PasswordHasher:
    # Made once, with argon2-cffi's default parameters (argon2id); imported late for the CLI's start.
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        _hasher = PasswordHasher()
    return _hasher


def _user(row: Any) -> User:
    return User(
        row.id,
        row.name,
        Role(row.role),
        row.disabled,
        row.password_hash is not None,
        row.token_hash is not None,
    )


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(store: ReviewStore, name: str, role: Role = Role.reviewer, password: str | None = None) -> User:
    """Raises UserError: the name is taken; InputError: a name that cannot be shown."""
    name = display_name(name)
    if password is not None and len(password) < 8:
        raise UserError("a password needs at least 8 characters")
    with store.database.writing() as session:
        if session.scalar(select(UserRow).where(UserRow.name == name)) is not None:
            raise UserError(f"{store.where}: there is already a user {name!r}")
        row = UserRow(
            name=name,
            role=role.value,
            password_hash=_password_hasher().hash(password) if password is not None else None,
            disabled=False,
            created=now(),
        )
        session.add(row)
        session.flush()
        return _user(row)


def list_users(store: ReviewStore) -> list[User]:
    with store.database.reading() as session:
        return [_user(row) for row in session.scalars(select(UserRow).order_by(UserRow.name))]


def _change(store: ReviewStore, name: str, **values: object) -> User:
    with store.database.writing() as session:
        row = session.scalar(select(UserRow).where(UserRow.name == display_name(name)))
        if row is None:
            raise UserError(f"{store.where}: no user {name!r} (nerd review users list shows them)")
        for key, value in values.items():
            setattr(row, key, value)
        session.flush()
        return _user(row)


def disable_user(store: ReviewStore, name: str) -> User:
    """The user can no longer sign in; their sessions and token stop working at once. Their
    decisions stay."""
    return _change(store, name, disabled=True, token_hash=None)


def enable_user(store: ReviewStore, name: str) -> User:
    return _change(store, name, disabled=False)


def set_password(store: ReviewStore, name: str, password: str) -> User:
    if len(password) < 8:
        raise UserError("a password needs at least 8 characters")
    return _change(store, name, password_hash=_password_hasher().hash(password))


def new_token(store: ReviewStore, name: str) -> str:
    """A new personal API token for the user (the old one stops working); shown once, kept hashed."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    _change(store, name, token_hash=token_digest(token))
    return token


# A hash to verify against when the name is unknown, so that a wrong name takes as long as a wrong
# password (no telling which names exist by the time an answer takes).
_DUMMY: str | None = None


def check_password(store: ReviewStore, name: str, password: str) -> User | None:
    """The user, when the name and password are right and the user is enabled; else None."""
    from argon2.exceptions import InvalidHashError, VerificationError

    global _DUMMY
    hasher = _password_hasher()
    try:
        cleaned = display_name(name)
    except InputError:
        cleaned = ""
    with store.database.reading() as session:
        row = session.scalar(select(UserRow).where(UserRow.name == cleaned)) if cleaned else None
    stored = row.password_hash if row is not None else None
    if stored is None:
        _DUMMY = _DUMMY or hasher.hash(secrets.token_hex(16))
        stored = _DUMMY
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.password_hash is None or row.disabled:
        return None
    return _user(row)


def user_by_id(store: ReviewStore, user_id: int) -> User | None:
    with store.database.reading() as session:
        row = session.get(UserRow, user_id)
        return _user(row) if row is not None and not row.disabled else None


# Asked on every request made with a token: one prebuilt statement, outside a transaction.
_BY_TOKEN = select(UserRow.__table__).where(UserRow.__table__.c.token_hash == bindparam("digest"))


def user_by_token(store: ReviewStore, token: str) -> User | None:
    row = store.database.read_one(_BY_TOKEN, {"digest": token_digest(token)})
    return _user(row) if row is not None and not row.disabled else None


def user_by_name(store: ReviewStore, name: str) -> User | None:
    with store.database.reading() as session:
        row = session.scalar(select(UserRow).where(UserRow.name == name))
        return _user(row) if row is not None and not row.disabled else None


def proxy_user(store: ReviewStore, name: str) -> User | None:
    """The user a trusted proxy names, added as a reviewer the first time it names them (single
    sign-on decides who may in; a role above reviewer is given with nerd review users add)."""
    try:
        cleaned = display_name(name)
    except InputError:
        return None
    found = _find(store, cleaned)
    if found is not None:
        return None if found.disabled else found
    try:
        return add_user(store, cleaned)
    except UserError:  # added by another request at the same moment
        return user_by_name(store, cleaned)


def _find(store: ReviewStore, name: str) -> User | None:
    with store.database.reading() as session:
        row = session.scalar(select(UserRow).where(UserRow.name == name))
        return _user(row) if row is not None else None
