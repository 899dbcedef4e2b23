import os
import socket
from unittest import mock

from typer.testing import CliRunner

from nerd.cli.main import app

runner = CliRunner()


def invoke(*arguments):
    # nerd serve hands its settings to uvicorn's workers through the environment; keep them out of the suite.
    with mock.patch.dict(os.environ, clear=False):
        os.environ.pop("NERD_MODEL_DIR", None)
        return runner.invoke(app, ["serve", *arguments])


def test_serve_without_a_model_says_how_to_give_one(monkeypatch, tmp_path):
    # Away from a checkout (an installed wheel) there is no shipped model to fall back on.
    monkeypatch.setattr("nerd.default_model.PROJECT_MODELS", tmp_path)
    result = invoke()
    assert result.exit_code == 1 and "--model" in result.output


def test_serve_refuses_a_directory_that_is_not_a_bundle(tmp_path):
    result = invoke("--model", str(tmp_path))
    assert result.exit_code == 1 and "bundle.json" in result.output


def test_a_port_in_use_is_refused_before_anything_is_printed():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = invoke("--port", str(port))
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.output and "--port" in result.output
    assert "curl" not in result.output and "serving" not in result.output
