"""The project's errors: one root type, subclasses that carry where the problem is."""

from __future__ import annotations

from pathlib import Path


class NerdError(Exception):
    """Root of every error nerd raises on purpose; the CLI turns it into one line and exit 1."""


class NerdWarning(UserWarning):
    """Input nerd reads anyway, but a person should know about; the CLI prints it as one line."""


class InputError(NerdError):
    """Bad outside input, located by file, line and field where those are known."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.field = field
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path
            if self.line is not None:
                where += f":{self.line}"
        if self.field is not None:
            where += f" [{self.field}]" if where else f"[{self.field}]"
        return f"{where}: {self.reason}" if where else self.reason


class ConllFormatError(InputError):
    """A CoNLL file that cannot be read: wrong columns, malformed tags, an unknown tag scheme."""


class TagSchemeError(NerdError):
    """A tag sequence that breaks the IOB rules; raised by the pure span functions."""

    def __init__(self, message: str, *, position: int) -> None:
        self.position = position
        super().__init__(message)


class AnswerFilesError(InputError):
    """A teacher's answer files that cannot be imported as a whole (as opposed to one bad record)."""


class ModelBundleError(InputError):
    """An exported model bundle that is incomplete, altered or unreadable (``onnx-<variant>/``)."""


class LabelMapError(InputError):
    """A label set or label map that is inconsistent."""


class ConfigError(NerdError):
    """Options that contradict each other or name something unknown."""
