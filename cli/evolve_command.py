"""``nerd evolve``: EvoKD rounds across the air gap (plan, rehearse with a stand-in teacher, report)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from nerd.cli.console import console, exit_on_error

evolve_app = typer.Typer(
    name="evolve",
    help="Evolving distillation (EvoKD) in rounds of Batch requests: the teacher sees the student's "
    "mistakes and writes new sentences aimed at them.",
    no_args_is_help=True,
)


@evolve_app.command("plan")
def plan_cli(
    model: Annotated[
        Path,
        typer.Option(
            help="The student: a training checkpoint or an exported bundle directory.",
            file_okay=False,
            exists=True,
            show_default=False,
        ),
    ],
    data: Annotated[
        list[Path],
        typer.Option(
            help="Labelled CoNLL data to find the student's mistakes on (the probe data; not the data you "
            "report scores on: the teacher sees these sentences). Repeat for more files.",
            dir_okay=False,
            exists=True,
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="The round's directory, e.g. evolve/round-1; earlier rounds are the directories beside it "
            "holding a round.json, and this round's number follows theirs.",
            show_default=False,
        ),
    ],
    eval_data: Annotated[
        list[Path] | None,
        typer.Option(
            "--eval",
            help="Held-out CoNLL data to score the student on as well, never shown to the teacher: "
            "nerd evolve report measures each round's gain on it. Repeat for more files.",
            dir_okay=False,
            exists=True,
        ),
    ] = None,
    requests: Annotated[int, typer.Option(help="At most this many Batch requests.", min=1)] = 40,
    mistakes_per_request: Annotated[
        int, typer.Option(help="Mistaken sentences each request shows the teacher.", min=1)
    ] = 8,
    correct_per_request: Annotated[
        int, typer.Option(help="Sentences the student got right each request shows too.", min=0)
    ] = 3,
    easy: Annotated[int, typer.Option(help="Easy new sentences each request asks for.", min=0)] = 5,
    hard: Annotated[int, typer.Option(help="Hard new sentences each request asks for.", min=0)] = 5,
    teacher_model: Annotated[
        str, typer.Option("--teacher-model", help="The model named in every request body.")
    ] = "gpt-4-0125-preview",
    temperature: Annotated[
        float, typer.Option(help="Sampling temperature of the requests (variety helps generation).", min=0)
    ] = 1.0,
    max_tokens: Annotated[
        int | None, typer.Option(help="max_tokens of each request (none: the API's default).", min=1)
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            help='Label definitions, JSON {"TYPE": "definition"}; needed when the student has types '
            "outside CoNLL's PER, ORG, LOC, MISC.",
            dir_okay=False,
            exists=True,
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for dealing mistakes and picking correct examples.")] = 0,
    threads: Annotated[int | None, typer.Option(help="Threads for running the student.", min=1)] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Re-plan a round that holds only a plan (never one with answers)."),
    ] = False,
) -> None:
    """Run the student on labelled data, collect its mistakes, and write the round's Batch requests."""
    with exit_on_error():
        from nerd.evolution.planning import PlanOptions, plan_round
        from nerd.labels import load_label_set

        options = PlanOptions(
            requests=requests,
            mistakes_per_request=mistakes_per_request,
            correct_per_request=correct_per_request,
            easy=easy,
            hard=hard,
            model=teacher_model,
            temperature=temperature,
            max_tokens=max_tokens,
            labels=load_label_set(labels) if labels else None,
            seed=seed,
        )
        with console.status("Running the student on the probe data"):
            plan = plan_round(
                model, data, out, options, eval_data=eval_data or [], force=force, threads=threads
            )
        state = plan.state
        errors = state["errors"]
        kinds = ", ".join(f"{kind} {count}" for kind, count in errors["by_kind"].items())
        f1 = state["scores"]["micro"]["f1"]
        console.print(
            f"Round {state['round']}: the student scores micro F1 {f1:.4f} on the probe data; "
            f"{errors['sentences']} sentences with errors ({kinds})."
        )
        if state["eval"] is not None:
            console.print(f"Held-out micro F1: {state['eval']['micro']['f1']:.4f}")
        asked = state["requests"]
        console.print(
            f"{asked['count']} requests showing {asked['mistakes_shown']} mistakes, asking for "
            f"{asked['count'] * (asked['easy'] + asked['hard'])} new sentences, in {out}/"
        )
        names = ", ".join(part["name"] for part in plan.manifest["files"])
        console.print(
            f"Next: upload {names} to the Batch API; put its output file into {out}/ and run "
            f"nerd import {out}/requests-*.jsonl {out}/<output>.jsonl --out {out}/imported"
        )


@evolve_app.command("stand-in-teacher")
def stand_in_cli(
    round_dir: Annotated[
        Path,
        typer.Argument(help="A planned round directory.", file_okay=False, exists=True, show_default=False),
    ],
    gazetteer: Annotated[
        Path,
        typer.Option(
            help="CoNLL file whose entities fill the templates' other slots (e.g. your gold data).",
            dir_okay=False,
            exists=True,
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="Output file. Default: stand-in-output.jsonl in the round directory."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for templates and fillers.")] = 0,
) -> None:
    """NOT an LLM: answer a round's requests from templates and a gazetteer, as Batch API output,
    to rehearse the round trip offline. Its sentences are formulaic; see docs/evolve.md."""
    with exit_on_error():
        from nerd.annotation.batch_requests import PART_PATTERN
        from nerd.atomic import atomic_write_text
        from nerd.evolution.rounds import read_round
        from nerd.evolution.stand_in_teacher import answer_requests, load_gazetteer

        read_round(round_dir)
        lines = answer_requests(sorted(round_dir.glob(PART_PATTERN)), load_gazetteer(gazetteer), seed)
        target = out or round_dir / "stand-in-output.jsonl"
        atomic_write_text(target, "".join(line + "\n" for line in lines))
        console.print(f"{len(lines)} stand-in answers in {target}")


@evolve_app.command("report")
def report_cli(
    rounds: Annotated[
        Path,
        typer.Argument(
            help="The directory holding the round directories (e.g. evolve/).",
            file_okay=False,
            exists=True,
            show_default=False,
        ),
    ],
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the rows as JSON.")] = None,
    markdown_out: Annotated[Path | None, typer.Option("--markdown", help="Write a Markdown table.")] = None,
) -> None:
    """F1 per round: the probe score each round started from, and the held-out score before and after."""
    with exit_on_error():
        from nerd.atomic import atomic_write_text
        from nerd.evolution.report import format_value, markdown, report_rows

        rows = report_rows(rounds)
        table = Table(
            title="Evolution rounds",
            title_justify="left",
            caption="probe F1: where the mistakes were found; before / after: held-out micro F1 of the "
            "student the round starts from / trains; imported: generated sentences imported / read",
            caption_justify="left",
        )
        for name in ("round", "probe F1", "errors", "requests", "imported", "before", "after", "gain"):
            table.add_column(name, justify="right")

        for row in rows:
            read = None if row.imported is None or row.rejected is None else row.imported + row.rejected
            table.add_row(
                str(row.round),
                format_value(row.probe_f1),
                str(row.errors),
                str(row.requests),
                "–" if read is None else f"{row.imported}/{read}",
                format_value(row.eval_f1),
                format_value(row.after_f1),
                format_value(row.gain, signed=True),
            )
        console.print(table)
        if json_out is not None:
            atomic_write_text(json_out, json.dumps([row.to_json() for row in rows], indent=2) + "\n")
        if markdown_out is not None:
            atomic_write_text(markdown_out, markdown(rows))
