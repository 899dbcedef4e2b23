"""Console output shared by the commands, and the one place errors become an exit code."""

from __future__ import annotations

import contextlib
import warnings
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

from nerd.errors import NerdError, NerdWarning

console = Console()
error_console = Console(stderr=True)


def show_warnings_as_lines() -> None:
    """Print nerd's own warnings as one yellow line on stderr, not Python's file:line form."""
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        if issubclass(category, NerdWarning):
            error_console.print(f"[yellow]warning:[/] {escape(str(message))}", soft_wrap=True)
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show


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
