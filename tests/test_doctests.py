"""The examples in the modules' docstrings, run against the installed ``nerd`` package.

pytest's ``--doctest-modules`` would import each file by its folder's name (``training.schedules``), a
second copy of the module beside ``nerd.training.schedules``; here every module is imported by its real name.
"""

import doctest
import importlib

import pytest

from tests.test_layout import source_modules


def modules_with_examples() -> list[str]:
    return sorted(
        name for name, path in source_modules().items() if ">>>" in path.read_text(encoding="utf-8")
    )


@pytest.mark.parametrize("module_name", modules_with_examples())
def test_docstring_examples(module_name):
    module = importlib.import_module(module_name)
    tests = [test for test in doctest.DocTestFinder().find(module) if test.examples]
    assert tests, f"{module_name} mentions >>> but has no runnable example"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in tests:
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{results.failed} of {results.attempted} examples failed in {module_name}"
