"""Bodies Python's json module takes and a route cannot use are 4xx with a Problem body, documented in
the OpenAPI schema; a refused reload never names a path of the server (issue 25, items 4 and 5).

On fa6c330 each case below was a 500 with a traceback, or (item 5) an answer naming the server's path.
"""

import json
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

ADMIN = {"Authorization": "Bearer admin", "content-type": "application/json"}
JSON = {"content-type": "application/json"}

RELOAD_BODIES = {
    "a null byte": b'{"model_dir": "\\u00bf\\u0000x"}',
    "a lone high surrogate": b'{"model_dir": "\\ud800"}',
    "a lone low surrogate": b'{"model_dir": "\\udc80"}',
    "a raw encoded surrogate": b'{"model_dir": "\xed\xa0\x80"}',
    "a name over 255 bytes": json.dumps({"model_dir": "n" * 300}).encode(),
    "a symlink loop": b'{"model_dir": "loop"}',
    "NaN": b'{"model_dir": NaN}',
    "Infinity in an extra field": b'{"model_dir": "x", "y": Infinity}',
    "-Infinity as the body": b"-Infinity",
    "a float out of range": b'{"model_dir": 1e999}',
    "an integer of 5,000 digits": b'{"model_dir": ' + b"9" * 5000 + b"}",
    "not UTF-8": b'{"model_dir": "\xff"}',
}
ENTITY_BODIES = {
    "a lone surrogate in text": b'{"text": "Alma \\ud800 visited"}',
    "a lone surrogate in texts": b'{"texts": ["ok", "\\udc80"]}',
    "a lone surrogate in tokens": b'{"tokens": [["Alma", "\\ud83d"]]}',
    "a lone surrogate in a key": b'{"text": "Alma", "\\ud800": 1}',
    "NaN": b'{"text": "Alma", "aggregation": NaN}',
    "Infinity": b'{"texts": ["Alma"], "x": [Infinity]}',
    "1e999": b'{"text": "Alma", "decoding": 1e999}',
    "a raw encoded surrogate": b'{"text": "\xed\xa0\x80"}',
}


@pytest.fixture
def admin_client(make_client, tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    os.symlink("loop", root / "loop")
    with make_client(admin_keys=["admin"], models_root=root) as client:
        yield client


def documented(client, path, status):
    responses = client.get("/openapi.json").json()["paths"][path]["post"]["responses"]
    return str(status) in responses


@pytest.mark.parametrize("what", sorted(RELOAD_BODIES))
def test_odd_reload_bodies_are_refused_with_a_documented_4xx(admin_client, what):
    response = admin_client.post("/v1/admin/reload", content=RELOAD_BODIES[what], headers=ADMIN)
    assert 400 <= response.status_code < 500, (what, response.status_code, response.text)
    assert isinstance(response.json()["detail"], str | list)
    assert documented(admin_client, "/v1/admin/reload", response.status_code), what


@pytest.mark.parametrize("what", sorted(ENTITY_BODIES))
def test_odd_entity_bodies_are_refused_with_a_documented_4xx(client, what):
    response = client.post("/v1/entities", content=ENTITY_BODIES[what], headers=JSON)
    assert 400 <= response.status_code < 500, (what, response.status_code, response.text)
    assert "detail" in response.json()
    assert documented(client, "/v1/entities", response.status_code), what


def test_a_refusal_says_what_is_wrong(client):
    surrogate = client.post("/v1/entities", content=ENTITY_BODIES["a lone surrogate in texts"], headers=JSON)
    assert surrogate.status_code == 400 and "body.texts[1]" in surrogate.json()["detail"]
    nan = client.post("/v1/entities", content=ENTITY_BODIES["NaN"], headers=JSON)
    assert "NaN" in nan.json()["detail"]


def test_a_refused_reload_names_the_bundle_as_given_and_no_server_path(make_client, bundle, tmp_path):
    root = tmp_path / "models"
    root.mkdir()
    (root / "a-file").write_text("not a bundle")
    (root / "empty").mkdir()
    (root / "no-manifest").mkdir()
    (root / "no-manifest" / "model.onnx").write_bytes(b"x")
    with make_client(admin_keys=["admin"], models_root=root) as client:
        answers = {
            name: client.post("/v1/admin/reload", json={"model_dir": name}, headers=ADMIN)
            for name in ("nonexistent", "a-file", "empty", "no-manifest")
        }
    for name, answer in answers.items():
        assert answer.status_code == 409, answer.text
        detail = answer.json()["detail"]
        assert str(tmp_path) not in detail and repr(name) in detail
    # The same words whatever lies there: the answers do not map the root.
    assert len({answer.json()["detail"].replace(repr(name), "NAME") for name, answer in answers.items()}) == 1


@given(
    body=st.binary(max_size=120) | st.text(max_size=60).map(lambda t: json.dumps({"model_dir": t}).encode())
)
def test_any_reload_body_is_answered_without_a_server_error(admin_client_for_property, body):
    response = admin_client_for_property.post("/v1/admin/reload", content=body, headers=ADMIN)
    assert response.status_code < 500, response.text


@pytest.fixture(scope="module")
def admin_client_for_property(exported_bundles, tmp_path_factory):
    from fastapi.testclient import TestClient

    from nerd.service.app import create_app
    from nerd.service.settings import ServiceSettings

    out, _, _ = exported_bundles
    root = tmp_path_factory.mktemp("models")
    os.symlink("loop", root / "loop")
    settings = ServiceSettings(
        _env_file=None, model_dir=out / "onnx-fp32", admin_keys=["admin"], models_root=root
    )
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"texts": ["Alma visited Paris."], "texts": ["Borel left."]}', "texts"),
        (b'{"text": "Alma", "decoding": "viterbi", "decoding": "argmax"}', "decoding"),
        (b'{"tokens": [["Alma"]], "x": {"a": 1, "a": 2}}', "a"),
    ],
    ids=["texts", "decoding", "nested"],
)
def test_a_key_given_twice_is_a_400_that_names_it(client, body, key):
    response = client.post("/v1/entities", content=body, headers=JSON)
    assert response.status_code == 400, response.text
    assert f"the key {key!r} appears twice in one object" in response.json()["detail"]
    assert documented(client, "/v1/entities", 400)


def test_a_key_given_twice_in_a_reload_body_is_a_400(admin_client):
    body = b'{"model_dir": "a", "model_dir": "b"}'
    response = admin_client.post("/v1/admin/reload", content=body, headers=ADMIN)
    assert response.status_code == 400 and "'model_dir' appears twice" in response.json()["detail"]


def test_values_of_another_json_type_are_refused_not_coerced(client):
    for body in (
        b'{"text": 5}',
        b'{"texts": [true]}',
        b'{"tokens": [["Alma", 0]]}',
        b'{"text": "A", "decoding": 1}',
    ):
        response = client.post("/v1/entities", content=body, headers=JSON)
        assert response.status_code == 422, (body, response.status_code)
