"""The English model that ships in models/: intact, small, and serving by default."""

import json

from nerd.bundle_checks import verified_bundle
from nerd.default_model import DEFAULT_MODEL_NAME, default_model_dir


def test_the_shipped_bundle_is_intact_and_under_30_mb():
    directory = default_model_dir()
    assert directory is not None and directory.name == DEFAULT_MODEL_NAME
    manifest = verified_bundle(directory, keep_bytes=False).manifest
    assert manifest.variant == "int8"
    assert {label[2:] for label in manifest.labels if label != "O"} == {"LOC", "MISC", "ORG", "PER"}
    assert sum(f.stat().st_size for f in directory.iterdir()) < 30 * 1024 * 1024
    card = json.loads((directory / "training_card.json").read_text())
    assert card["status"] == "complete"


def test_the_app_serves_the_shipped_model_when_none_is_named():
    from fastapi.testclient import TestClient

    from nerd.service.app import create_app
    from nerd.service.settings import ServiceSettings

    text = "Angela Merkel met Emmanuel Macron in Paris on Tuesday to discuss the European Union budget."
    with TestClient(create_app(ServiceSettings(_env_file=None))) as client:
        response = client.post("/v1/entities", json={"text": text})
    assert response.status_code == 200, response.text
    found = {(e["text"], e["label"]) for e in response.json()["results"][0]["entities"]}
    assert {("Angela Merkel", "PER"), ("Emmanuel Macron", "PER"), ("Paris", "LOC")} <= found
