"""Console output shared by the commands, and the one place errors become an exit code."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from nerd.errors import NerdError

console = Console()
error_console = Console(stderr=True)


@contextlib.contextmanager
def exit_on_error() -> Iterator[None]:
    """Turn a :class:`NerdError` into one red line on stderr and exit code 1."""
    try:
        yield
    except NerdError as error:
        error_console.print(f"[bold red]error:[/] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(code=1) from None


def progress_bar() -> Progress:
    """A rich progress bar that disappears when done (to stderr, so stdout stays clean)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=error_console,
        transient=True,
    )
