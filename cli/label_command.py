"""``nerd label``: soft labels for unlabelled text from trained models, for ``nerd train --soft``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nerd.cli.choices import DECODING_HELP, DecodingChoice, RuntimeChoice
from nerd.cli.console import console, error_console, exit_on_error, progress_bar
from nerd.tagging.runtime_choice import RUNTIME_HELP


def label_cli(
    data: Annotated[
        Path,
        typer.Argument(
            help="Unlabelled text: a CoNLL file (its tags are ignored), one sentence a line, running "
            "articles, or JSONL with a text field.",
            exists=True,
            dir_okay=False,
        ),
    ],
    model: Annotated[
        list[Path],
        typer.Option(
            help="A training checkpoint or an exported bundle to label with; repeat for an ensemble "
            "(their label distributions are averaged; their label lists must be the same).",
            file_okay=False,
            exists=True,
        ),
    ],
    out: Annotated[Path, typer.Option(help="Directory for data.jsonl and report.json.")],
    input_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="auto, conll, lines, articles or jsonl (as nerd prompts reads them). Default: auto.",
        ),
    ] = "auto",
    text_field: Annotated[str, typer.Option(help="The text's field in JSONL input.")] = "text",
    decoding: Annotated[
        DecodingChoice,
        typer.Option(help=f"How the hard tags beside the soft labels are chosen. {DECODING_HELP}"),
    ] = DecodingChoice.viterbi,
    batch_size: Annotated[int, typer.Option(help="Windows per model call.", min=1)] = 64,
    chunk_size: Annotated[
        int,
        typer.Option(help="Sentences labelled between two saves of progress (what a restart redoes).", min=1),
    ] = 2000,
    threads: Annotated[
        int | None, typer.Option(help="CPU threads. Default: the cores this process may use.", min=1)
    ] = None,
    runtime: Annotated[RuntimeChoice, typer.Option(help=RUNTIME_HELP)] = RuntimeChoice.onnxruntime,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing or unfinished labelling in --out.")
    ] = False,
) -> None:
    """Label unlabelled text with trained models: per-word label probabilities (soft labels) and tags.

    A stopped run started again with the same arguments resumes where it stopped.
    """
    with exit_on_error():
        from nerd.annotation.prompt_inputs import InputFormat
        from nerd.errors import ConfigError
        from nerd.pseudo_labels.labellers import ensemble, load_labeller
        from nerd.pseudo_labels.resumable_labelling import LabelRequest, label_file
        from nerd.tagging.onnx_tagger import default_threads

        try:
            chosen_format = InputFormat(input_format)
        except ValueError:
            raise ConfigError(
                f"--format {input_format!r}: use one of {', '.join(f.value for f in InputFormat)}"
            ) from None
        cores = threads or default_threads()
        with error_console.status("loading the models"):
            labeller = ensemble(
                [
                    load_labeller(path, threads=cores, batch_size=batch_size, runtime=runtime.value)
                    for path in model
                ]
            )
        request = LabelRequest(
            input=data,
            out_dir=out,
            labeller=labeller,
            input_format=chosen_format,
            text_field=text_field,
            decoding=decoding.value,
            chunk_size=chunk_size,
            force=force,
        )
        with progress_bar() as progress:
            task = progress.add_task("labelling", total=None)
            report = label_file(
                request, lambda done, total: progress.update(task, completed=done, total=total)
            )
        if report.get("finished_earlier"):
            console.print(
                f"already finished: {out / 'data.jsonl'} holds the {report['records']} sentences of this "
                "input labelled by this model (--force labels them again)",
                markup=False,
            )
            return
        entities = ", ".join(f"{name} {count}" for name, count in report["entities"].items()) or "none"
        console.print(
            f"{report['records']} sentences ({report['words']} words) labelled by {report['labeller']}: "
            f"entities {entities}; mean word confidence {report['mean_word_confidence']}",
            soft_wrap=True,
            markup=False,
        )
        console.print(f"written: {out / 'data.jsonl'} (train on it with nerd train --soft)", markup=False)
