"""The ``nerd`` application: each command lives in its own module and is registered here."""

from __future__ import annotations

import typer

from nerd import __version__
from nerd.cli.annotate_command import annotate_cli
from nerd.cli.bench_command import bench_cli
from nerd.cli.console import show_warnings_as_lines
from nerd.cli.evaluate_command import evaluate_cli
from nerd.cli.evolve_command import evolve_app
from nerd.cli.export_command import export_cli, unpack_cli, verify_cli
from nerd.cli.extract_command import extract_cli
from nerd.cli.import_command import import_cli
from nerd.cli.label_command import label_cli
from nerd.cli.prompts_command import prompts_cli
from nerd.cli.reproduce_command import reproduce_cli
from nerd.cli.review_command import review_app
from nerd.cli.serve_command import serve_cli
from nerd.cli.sign_command import sign_cli
from nerd.cli.train_command import train_cli
from nerd.cli.wheelhouse_command import wheelhouse_cli
from nerd.offline import go_offline

app = typer.Typer(
    name="nerd",
    help="NER distillation for closed networks: LLM annotations in, a small served model out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.command("prompts")(prompts_cli)
app.command("annotate")(annotate_cli)
app.command("import")(import_cli)
app.command("label")(label_cli)
app.command("extract")(extract_cli)
app.command("train")(train_cli)
app.command("export")(export_cli)
app.command("verify")(verify_cli)
app.command("unpack")(unpack_cli)
app.command("sign")(sign_cli)
app.command("serve")(serve_cli)
app.command("evaluate")(evaluate_cli)
app.command("bench")(bench_cli)
app.command("reproduce")(reproduce_cli)
app.command("wheelhouse")(wheelhouse_cli)
app.add_typer(evolve_app)
app.add_typer(review_app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nerd {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """NER distillation for closed networks."""
    # Every command runs offline: nothing anywhere may reach for a model hub.
    go_offline()
    show_warnings_as_lines()


def main() -> None:
    """Console-script entry point."""
    app()
