"""``nerd review users``: the accounts of a review (who may sign in, and as what)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from nerd.cli.console import console, exit_on_error

if TYPE_CHECKING:
    from nerd.review.store import ReviewStore

users_app = typer.Typer(
    name="users",
    help="Reviewer accounts kept in the review database: add, list, disable, and personal API tokens.",
    no_args_is_help=True,
)

DB_HELP = "The review database: a SQLite file, or a URL (postgresql://user@host/db)."
NAME_HELP = "The person's name as shown on the page (any script; spaces and apostrophes are fine)."


def _review(db: str) -> ReviewStore:
    """The review database, checked to be one of this nerd's revision (imported late: the CLI
    starts without SQLAlchemy)."""
    from nerd.review.store import ReviewStore

    store = ReviewStore(db)
    store.project()
    return store


def _password(password_file: Path | None, *, confirm: bool = True) -> str:
    if password_file is not None:
        lines = password_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    return typer.prompt("password (8 characters or more)", hide_input=True, confirmation_prompt=confirm)


@users_app.command("add")
def add_cli(
    db: Annotated[str, typer.Argument(help=DB_HELP)],
    name: Annotated[str, typer.Argument(help=NAME_HELP)],
    role: Annotated[
        str,
        typer.Option(
            help="reviewer: decides the sentences served to them; adjudicator: also settles conflicts, "
            "reads the stats and exports.",
        ),
    ] = "reviewer",
    password_file: Annotated[
        Path | None,
        typer.Option(
            help="Read the password from this file's first line (else it is asked for).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    no_password: Annotated[
        bool,
        typer.Option(
            "--no-password",
            help="No password: the person signs in through the trusted proxy or with a token.",
        ),
    ] = False,
) -> None:
    """Add a user who can sign in to the review page (or use the API with a token)."""
    with exit_on_error():
        from nerd.errors import ConfigError
        from nerd.review.users import Role, add_user

        if role not in {r.value for r in Role}:
            raise ConfigError(f"--role {role}: one of {', '.join(r.value for r in Role)}")
        store = _review(db)
        password = None if no_password else _password(password_file)
        user = add_user(store, name, Role(role), password)
        console.print(f"{user.name} added as {user.role.value} to {db}", soft_wrap=True)


@users_app.command("list")
def list_cli(db: Annotated[str, typer.Argument(help=DB_HELP)]) -> None:
    """The users, their roles, and whether they can sign in."""
    with exit_on_error():
        from nerd.review.users import list_users

        store = _review(db)
        table = Table(title=f"Users of {db}", title_justify="left")
        for column in ("name", "role", "password", "token", "state"):
            table.add_column(column)
        for user in list_users(store):
            table.add_row(
                user.name,
                user.role.value,
                "yes" if user.has_password else "no",
                "yes" if user.has_token else "no",
                "disabled" if user.disabled else "enabled",
            )
        console.print(table)


@users_app.command("disable")
def disable_cli(
    db: Annotated[str, typer.Argument(help=DB_HELP)], name: Annotated[str, typer.Argument(help=NAME_HELP)]
) -> None:
    """Stop a user from signing in; their sessions and token stop working at once, their decisions stay."""
    with exit_on_error():
        from nerd.review.users import disable_user

        store = _review(db)
        console.print(f"{disable_user(store, name).name} disabled", soft_wrap=True)


@users_app.command("enable")
def enable_cli(
    db: Annotated[str, typer.Argument(help=DB_HELP)], name: Annotated[str, typer.Argument(help=NAME_HELP)]
) -> None:
    """Let a disabled user sign in again."""
    with exit_on_error():
        from nerd.review.users import enable_user

        store = _review(db)
        console.print(f"{enable_user(store, name).name} enabled", soft_wrap=True)


@users_app.command("password")
def password_cli(
    db: Annotated[str, typer.Argument(help=DB_HELP)],
    name: Annotated[str, typer.Argument(help=NAME_HELP)],
    password_file: Annotated[
        Path | None,
        typer.Option(
            help="Read the new password from this file's first line (else it is asked for).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Set a user's password."""
    with exit_on_error():
        from nerd.review.users import set_password

        store = _review(db)
        console.print(
            f"{set_password(store, name, _password(password_file)).name}: password set", soft_wrap=True
        )


@users_app.command("token")
def token_cli(
    db: Annotated[str, typer.Argument(help=DB_HELP)], name: Annotated[str, typer.Argument(help=NAME_HELP)]
) -> None:
    """Make a new personal API token for a user (the old one stops working). It is printed once, to
    stdout, and kept only as a hash: send it as Authorization: Bearer TOKEN."""
    with exit_on_error():
        from nerd.review.users import new_token

        store = _review(db)
        # Plain stdout, no rich markup or wrapping: the token is meant to be piped into a file.
        typer.echo(new_token(store, name))
