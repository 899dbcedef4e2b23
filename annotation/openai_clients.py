"""Clients of the official ``openai`` SDK for a run: OpenAI, Azure OpenAI or any compatible endpoint.

The API key comes from the environment or from a file and lives only in the client object: nerd never
writes it to disk, to ``state.json`` or to a log line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from nerd.errors import ConfigError, InputError, NerdError

if TYPE_CHECKING:
    from openai import AsyncOpenAI, OpenAI

KEY_VARIABLES = ("OPENAI_API_KEY",)
AZURE_KEY_VARIABLES = ("AZURE_OPENAI_API_KEY", "OPENAI_API_KEY")
# Local servers (llama.cpp, vLLM, Ollama) take no key, but the SDK will not send a request without one.
NO_KEY = "no-key"


def _sdk() -> ModuleType:
    """The ``openai`` package, or a clear error on an install without the annotate extra."""
    try:
        import openai
    except ImportError:
        raise ConfigError("nerd annotate needs the openai SDK: pip install 'nerd[annotate]'") from None
    return openai


class EndpointError(NerdError):
    """The API failed in a way its retries did not mend; what was done so far is kept on disk."""


@dataclass(frozen=True)
class Endpoint:
    """Where requests go and how to authenticate; ``base_url`` None is api.openai.com."""

    base_url: str | None = None
    api_key_file: Path | None = None
    azure_api_version: str | None = None
    timeout: float = 120.0

    @property
    def is_azure(self) -> bool:
        return self.azure_api_version is not None

    def api_key(self, *, required: bool) -> str:
        """The key from ``api_key_file`` or the environment; a placeholder for keyless local servers.

        Raises:
            InputError: the key file cannot be read or is empty.
            ConfigError: no key anywhere and ``required``.
        """
        if self.api_key_file is not None:
            try:
                key = self.api_key_file.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as error:
                reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
                raise InputError(
                    f"cannot read the API key: {reason or error}", path=self.api_key_file
                ) from None
            if not key:
                raise InputError("the API key file is empty", path=self.api_key_file)
            return key
        variables = AZURE_KEY_VARIABLES if self.is_azure else KEY_VARIABLES
        for variable in variables:
            if os.environ.get(variable, "").strip():
                return os.environ[variable].strip()
        if required:
            raise ConfigError(f"no API key: set {' or '.join(variables)}, or pass --api-key-file")
        return NO_KEY

    def sync_client(self, *, key_required: bool = True) -> OpenAI:
        """A client for the Batch API's few file and batch calls, which the SDK's own retries cover."""
        return self._client(asynchronous=False, key_required=key_required, max_retries=3)

    def async_client(self, *, key_required: bool = False) -> AsyncOpenAI:
        """A client for chat completions; retries are nerd's (shared pauses, accounting), so none here."""
        return self._client(asynchronous=True, key_required=key_required, max_retries=0)

    def _client(self, *, asynchronous: bool, key_required: bool, max_retries: int) -> Any:
        openai = _sdk()
        key = self.api_key(required=key_required)
        if self.is_azure:
            if self.base_url is None:
                raise ConfigError("Azure OpenAI needs --base-url: the resource's endpoint")
            azure = openai.AsyncAzureOpenAI if asynchronous else openai.AzureOpenAI
            return azure(
                azure_endpoint=self.base_url,
                api_version=self.azure_api_version,
                api_key=key,
                timeout=self.timeout,
                max_retries=max_retries,
            )
        plain = openai.AsyncOpenAI if asynchronous else openai.OpenAI
        return plain(base_url=self.base_url, api_key=key, timeout=self.timeout, max_retries=max_retries)
