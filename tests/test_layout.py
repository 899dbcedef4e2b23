"""The package's shape: one top-level import name, three layers, no import cycles, no torch when serving."""

import ast
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import nerd

ROOT = Path(__file__).resolve().parents[1]
STAGES = (
    "annotation",
    "training",
    "tagging",
    "export",
    "service",
    "evaluation",
    "evolution",
    "experiments",
    "pseudo_labels",
    "review",
    "extraction",
)
# The stages each stage builds on (every stage may import the vocabulary). A new arrow is a design decision:
# add it here on purpose, never to make a test pass.
STAGE_DEPENDENCIES = {
    "annotation": set(),
    "training": set(),
    # A model (bundle or checkpoint) reading words into labels: what export verifies, the service serves,
    # evaluation scores and pseudo_labels labels with.
    "tagging": set(),
    "service": {"tagging"},
    "export": {"tagging"},
    "evaluation": {"tagging"},
    "evolution": {"annotation", "evaluation"},
    # Experiments measure the other stages (an int8 recipe, filled teacher data) the way the CLI runs them,
    # and show models' answers to texts the way the service gives them (the showcase).
    "experiments": {"training", "evaluation", "export", "pseudo_labels", "tagging", "service"},
    "pseudo_labels": {"annotation", "tagging"},
    # People review sentences (read as annotation reads them) on the service's FastAPI stack, with a
    # model's suggestions.
    "review": {"annotation", "service", "tagging"},
    # An archive's entities are the service's answer for each document (its entities and its defaults),
    # from a bundle's tagger.
    "extraction": {"service", "tagging"},
}
FORMER_TOP_LEVEL = {*STAGES, "cli"}


def source_modules() -> dict[str, Path]:
    """Every module of the installed ``nerd`` package, by dotted name, with the file it is read from."""
    modules: dict[str, Path] = {}
    packages = ["nerd", *(f"nerd.{s}" for s in (*STAGES, "cli"))]
    for package in packages:
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.submodule_search_locations, package
        folder = Path(next(iter(spec.submodule_search_locations)))
        for path in sorted(folder.glob("*.py")):
            name = package if path.stem == "__init__" else f"{package}.{path.stem}"
            modules[name] = path
    return modules


def imported_names(path: Path) -> set[str]:
    """Every absolute module name a file imports, at the top or inside functions, type-checking ones too."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def module_graph() -> dict[str, set[str]]:
    modules = source_modules()
    return {
        name: {imported for imported in imported_names(path) if imported in modules and imported != name}
        for name, path in modules.items()
    }


def layer_of(module: str) -> str:
    """'vocabulary', a stage's name, or 'cli'."""
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in (*STAGES, "cli"):
        return parts[1]
    return "vocabulary"


def test_the_vocabulary_imports_nothing_above_it():
    offending = {
        (module, imported)
        for module, imports in module_graph().items()
        for imported in imports
        if layer_of(module) == "vocabulary" and layer_of(imported) != "vocabulary"
    }
    assert not offending


def test_stages_import_only_the_vocabulary_and_the_stages_they_build_on():
    offending = set()
    for module, imports in module_graph().items():
        layer = layer_of(module)
        if layer not in STAGES:
            continue
        allowed = {"vocabulary", layer, *STAGE_DEPENDENCIES[layer]}
        offending |= {(module, imported) for imported in imports if layer_of(imported) not in allowed}
    assert not offending


def test_nothing_below_the_cli_imports_it():
    offending = {
        (module, imported)
        for module, imports in module_graph().items()
        for imported in imports
        if layer_of(imported) == "cli" and layer_of(module) != "cli"
    }
    assert not offending


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among the modules (as a path that returns to its start), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for following in sorted(graph.get(node, ())):
            if state.get(following) == "open":
                return [*stack[stack.index(following) :], following]
            if following not in state and (cycle := visit(following)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_module_imports_itself_through_others():
    assert find_cycle(module_graph()) is None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_file_imports_the_former_top_level_names():
    """``import training`` once worked; from the repository root it still would, so only a scan catches it."""
    files = [*source_modules().values(), *ROOT.glob("tests/**/*.py"), *ROOT.glob("bench/*.py")]
    offending = {
        (str(path.relative_to(ROOT)), name)
        for path in files
        for name in imported_names(path)
        if name.split(".")[0] in FORMER_TOP_LEVEL
    }
    assert not offending


def run_outside_the_repository(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Python started elsewhere, so that the repository's folders are not importable by accident."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=environment, capture_output=True, text=True
    )


def test_the_install_provides_nerd_and_none_of_the_stage_names(tmp_path):
    code = (
        "import importlib.util, nerd.training.card, nerd.service.api, nerd.cli.main\n"
        f"found = [n for n in {sorted(FORMER_TOP_LEVEL)!r} if importlib.util.find_spec(n) is not None]\n"
        "assert not found, found\n"
    )
    result = run_outside_the_repository(code, tmp_path)
    assert result.returncode == 0, result.stderr


def test_the_service_and_the_import_never_load_torch(tmp_path):
    code = (
        "import sys, nerd.service.app, nerd.cli.main, nerd.bundle_archive\n"
        "import nerd.annotation.importing, nerd.annotation.request_writing\n"
        "heavy = sorted(m for m in ('torch', 'transformers') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    result = run_outside_the_repository(code, tmp_path)
    assert result.returncode == 0, result.stderr


def test_the_wheel_holds_one_top_level_package(tmp_path):
    """Builds the wheel from a copy of the sources (so no build files land in the checkout)."""
    pytest.importorskip("setuptools")
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("nerd", "cli", *STAGES):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", "dist", "."],
        cwd=source,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = (source / "dist").glob("nerd-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if ".dist-info/" not in name}
    assert top_level == {"nerd"}
    for packaged in (
        "nerd/spans.py",
        "nerd/cli/main.py",
        "nerd/training/trainer.py",
        "nerd/service/static/index.html",
        "nerd/review/static/index.html",
        "nerd/review/static/main.js",
        "nerd/review/static/spans.js",
        "nerd/review/migrations/env.py",
        "nerd/review/migrations/versions/0002_team.py",
        "nerd/review/static/review.css",
        "nerd/verification_sample.conll",
    ):
        assert packaged in names
    (top_level_txt,) = (n for n in names if n.endswith(".dist-info/top_level.txt"))
    assert zipfile.ZipFile(wheel).read(top_level_txt).decode().split() == ["nerd"]
    assert nerd.__version__ in wheel.name
