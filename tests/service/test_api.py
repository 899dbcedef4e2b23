import json
import logging
import os
import shutil
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nerd.errors import ModelBundleError

TEXT = "  Alma met Borel in Quenby\r\n\twith Hollin 🙂 today.  "


def entities_of(response, index=0):
    assert response.status_code == 200, response.text
    return response.json()["results"][index]["entities"]


def test_entities_point_into_the_original_text(client):
    response = client.post("/v1/entities", json={"text": TEXT})
    found = entities_of(response)
    # The tiny model has seen no emoji or full stop; the names are what it learned.
    assert {("Alma", "PER"), ("Borel", "PER"), ("Quenby", "LOC"), ("Hollin", "ORG")} <= {
        (e["text"], e["label"]) for e in found
    }
    for entity in found:
        assert TEXT[entity["start"] : entity["end"]] == entity["text"]
        assert 0 < entity["score"] <= 1
    body = response.json()
    assert body["model"]["sha256"] and body["results"][0]["truncated"] is False


def test_texts_come_back_in_order_and_tokens_give_token_indices(client):
    texts = ["ALMA MET BOREL", "", "today Tarn", "Alma"]
    results = client.post("/v1/entities", json={"texts": texts}).json()["results"]
    assert len(results) == 4 and results[1]["entities"] == []
    for text, result in zip(texts, results, strict=True):
        for entity in result["entities"]:
            assert text[entity["start"] : entity["end"]] == entity["text"]
    tokens = [["Alma", "met", "Borel", "Farrow", "in", "Tarn"]]
    found = entities_of(client.post("/v1/entities", json={"tokens": tokens, "aggregation": "average"}))
    assert ("Tarn", "LOC", 5, 6) in [(e["text"], e["label"], e["start"], e["end"]) for e in found]


def test_a_long_text_is_read_to_its_end_in_overlapping_windows(client):
    text = " ".join(["the report said"] * 40 + ["Alma visited Quenby ."])
    found = entities_of(client.post("/v1/entities", json={"text": text}))
    assert [(e["text"], e["label"]) for e in found][-2:] == [("Alma", "PER"), ("Quenby", "LOC")]
    assert text[found[-1]["start"] : found[-1]["end"]] == "Quenby"


def test_a_long_text_in_steps_gives_what_the_engine_gives_in_one_call(client, bundle):
    from nerd.tagging.onnx_tagger import OnnxTagger
    from nerd.tokenization import tokenize

    text = " ".join(["Alma visited Quenby with Borel ."] * 60)
    found = entities_of(client.post("/v1/entities", json={"text": text}))
    words = [word.text for word in tokenize(text)]
    (whole,) = OnnxTagger(bundle, threads=1).analyse([words], max_tokens=128, stride=32)
    assert len(found) == sum(tag.startswith("B-") for tag in whole.tags) > 60


def test_a_text_is_capped_by_its_sub_tokens_not_its_characters(make_client):
    """Issue 25, item 9: 20,000 characters of "!" are 20,000 sub-tokens, of prose about 5,000."""
    with make_client(max_text_tokens=300, max_chars=2000) as client:
        prose = " ".join(["Alma visited Quenby ."] * 40)[:1000]
        assert client.post("/v1/entities", json={"text": prose}).status_code == 200
        bangs = client.post("/v1/entities", json={"texts": ["Alma", "!" * 1000]})
        assert bangs.status_code == 422
        assert (
            bangs.json()["detail"].startswith("text 1: 1000 sub-tokens")
            and "NERD_MAX_TEXT_TOKENS" in bangs.text
        )


def test_truncated_only_when_a_word_is_longer_than_a_window(client):
    results = client.post("/v1/entities", json={"texts": ["Alma " + "q" * 60, "Alma met Borel"]}).json()
    assert [r["truncated"] for r in results["results"]] == [True, False]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_offsets_that_slice_to_the_entity(client, text):
    for entity in entities_of(client.post("/v1/entities", json={"text": text})):
        assert text[entity["start"] : entity["end"]] == entity["text"]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(
                    st.sampled_from(["text", "texts", "tokens", "aggregation", "x"]), inner, max_size=3
                )
            ),
            max_leaves=12,
        ).map(lambda value: json.dumps(value).encode()),
    )
)
def test_any_body_is_answered_without_a_server_error(client, body):
    response = client.post("/v1/entities", content=body, headers={"content-type": "application/json"})
    assert response.status_code in {200, 400, 413, 422}, response.text


def test_limits_are_413_or_422_and_name_the_limit(make_client):
    with make_client(max_body_bytes=200, max_texts=2, max_chars=30) as client:
        big = client.post("/v1/entities", json={"text": "x" * 500})
        assert big.status_code == 413 and "NERD_MAX_BODY_BYTES" in big.json()["detail"]
        many = client.post("/v1/entities", json={"texts": ["a", "b", "c"]})
        assert many.status_code == 422 and "NERD_MAX_TEXTS" in many.json()["detail"]
        long = client.post("/v1/entities", json={"texts": ["a", "y" * 31]})
        assert long.status_code == 422 and "text 1" in long.json()["detail"]
        both = client.post("/v1/entities", json={"text": "a", "texts": ["b"]})
        assert both.status_code == 422 and "exactly one" in both.text


def test_api_keys_guard_v1_and_leave_health_open(make_client, tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("# team keys\nfirst-key\nsecond-key\n")
    with make_client(api_key_file=keys) as client:
        assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200
        assert client.post("/v1/entities", json={"text": "Alma"}).status_code == 401
        wrong = client.get("/v1/model", headers={"Authorization": "Bearer first-ke"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        right = client.post(
            "/v1/entities", json={"text": "Alma"}, headers={"Authorization": "Bearer second-key"}
        )
        assert right.status_code == 200


def test_model_facts_and_metrics(client):
    model = client.get("/v1/model").json()
    assert model["variant"] == "fp32" and model["entity_types"] == ["LOC", "ORG", "PER"]
    assert model["training"]["schedule"] == "original" and model["files"]["model.onnx"]
    client.post("/v1/entities", json={"texts": ["Alma", "Borel"]})
    client.post("/v1/entities", json={})
    metrics = client.get("/metrics").text
    assert 'nerd_requests_total{path="/v1/entities",status="200"} 1' in metrics
    assert 'nerd_errors_total{kind="invalid_request"} 1' in metrics
    assert "nerd_batch_texts_count" in metrics and "nerd_request_seconds_bucket" in metrics


def test_asking_for_cuda_without_it_is_not_ready(make_client):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this machine has CUDA")
    with make_client(device="cuda") as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "CUDAExecutionProvider" in ready.json()["detail"]
        assert client.get("/healthz").status_code == 200
        assert client.post("/v1/entities", json={"text": "Alma"}).status_code == 503


def test_a_bundle_that_fails_its_checksums_refuses_to_start(make_client, bundle, tmp_path):
    copy = tmp_path / "onnx-fp32"
    shutil.copytree(bundle, copy)
    with (copy / "tokenizer.json").open("a") as stream:
        stream.write(" ")
    with pytest.raises(ModelBundleError, match=r"tokenizer\.json"), make_client(model_dir=copy):
        pass


def test_reload_swaps_the_model_without_failing_requests(make_client, bundle, tmp_path):
    other = tmp_path / "onnx-fp32"
    shutil.copytree(bundle, other)
    broken = tmp_path / "broken"
    shutil.copytree(bundle, broken)
    (broken / "model.onnx").write_bytes(b"not a model")
    admin = {"Authorization": "Bearer admin-key"}
    with make_client(admin_keys=["admin-key"], models_root=tmp_path) as client:
        failures = []

        def hammer():
            for _ in range(15):
                response = client.post("/v1/entities", json={"text": "Alma met Borel"})
                if response.status_code != 200:
                    failures.append(response.status_code)

        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for thread in threads:
            thread.start()
        swapped = client.post("/v1/admin/reload", json={"model_dir": str(other)}, headers=admin)
        for thread in threads:
            thread.join()
        assert swapped.status_code == 200 and failures == []
        refused = client.post("/v1/admin/reload", json={"model_dir": "broken"}, headers=admin)
        assert refused.status_code == 409 and "old model kept" in refused.json()["detail"]
        assert client.post("/v1/entities", json={"text": "Alma"}).status_code == 200


def test_the_access_log_has_no_texts_unless_asked(make_client, caplog):
    caplog.set_level(logging.INFO, logger="nerd.access")
    with make_client() as client:
        client.post("/v1/entities", json={"text": "Secret Alma"})
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "nerd.access"]
    assert records[-1]["texts"] == 1 and "Secret" not in caplog.text
    caplog.clear()
    with make_client(log_texts=True) as client:
        client.post("/v1/entities", json={"text": "Secret Alma"})
    assert "Secret Alma" in caplog.text


def test_the_page_and_its_script_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text and "http" not in page.text.lower()
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/../api.py").status_code == 404
    assert "/v1/entities" in client.get("/openapi.json").json()["paths"]


def test_a_request_chooses_its_decoding_and_an_unknown_one_is_refused(client):
    text = "Alma visited Quenby with Borel ."
    for decoding in ("viterbi", "argmax"):
        response = client.post("/v1/entities", json={"text": text, "decoding": decoding})
        assert response.status_code == 200, response.text
        assert ("Alma", "PER") in [(e["text"], e["label"]) for e in entities_of(response)]
    refused = client.post("/v1/entities", json={"text": text, "decoding": "beam"})
    assert refused.status_code == 422 and "decoding" in refused.text


def test_model_facts_name_files_without_the_paths_of_the_machines_that_made_them(
    make_client, bundle, tmp_path
):
    from nerd.bundle_reading import checksums
    from nerd.model_bundle import MANIFEST, read_manifest

    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    card = json.loads((copy / "training_card.json").read_text())
    card["base_model"] = "/home/maker/encoders/minilm"
    for facts in card["data"].values():
        for entry in facts["files"]:
            entry["path"] = "/srv/secret-project/" + entry["path"]
    (copy / "training_card.json").write_text(json.dumps(card))
    manifest = read_manifest(copy)
    verification = {**manifest.verification, "sample": "/srv/secret-project/dev.conll", "sample_sha256": "ab"}
    updated = manifest.model_copy(update={"files": checksums(copy), "verification": verification})
    (copy / MANIFEST).write_text(updated.model_dump_json())
    with make_client(model_dir=copy) as client:
        facts = client.get("/v1/model").json()
    assert "secret-project" not in json.dumps(facts) and "/home/maker" not in json.dumps(facts)
    assert facts["training"]["base_model"] == "minilm" and facts["verification"]["sample"] == "dev.conll"


def test_metrics_label_routes_by_template_and_put_unknown_paths_in_one_bucket(make_client):
    with make_client(max_body_bytes=1000) as client:
        for index in range(30):
            client.get(f"/no-such-route/{index}/customer-name-{index}")
        big = {"text": "x" * 2000}
        assert client.post(f"/v1/entities/customer-{index}", json=big).status_code == 413
        assert client.post("/v1/entities", json=big).status_code == 413
        metrics = client.get("/metrics").text
    assert "customer" not in metrics and "no-such-route" not in metrics
    assert 'nerd_requests_total{path="unmatched",status="404"} 30.0' in metrics
    assert 'nerd_requests_total{path="unmatched",status="413"} 2.0' in metrics


def test_metrics_of_several_workers_are_answered_together(tmp_path):
    # Three processes, as uvicorn's workers are: two count, a third renders what both counted.
    import subprocess
    import sys

    count = "from nerd.service.metrics import ServiceMetrics; ServiceMetrics().texts.inc(5)"
    render = "from nerd.service.metrics import ServiceMetrics; print(ServiceMetrics().render().decode())"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for script in (count, count):
        subprocess.run([sys.executable, "-c", script], env=env, check=True)
    shown = subprocess.run(
        [sys.executable, "-c", render], env=env, check=True, capture_output=True, text=True
    )
    assert "nerd_texts_total 10.0" in shown.stdout


def test_reload_needs_an_admin_key_and_a_bundle_below_the_models_root(make_client, bundle, tmp_path):
    root = tmp_path / "models"
    shutil.copytree(bundle, root / "next")
    with make_client(api_keys=["user-key"]) as client:
        off = client.post("/v1/admin/reload", headers={"Authorization": "Bearer user-key"})
        assert off.status_code == 403 and "admin routes are off" in off.json()["detail"]
    with make_client(api_keys=["user-key"], admin_keys=["admin-key"], models_root=root) as client:
        user = {"Authorization": "Bearer user-key"}
        admin = {"Authorization": "Bearer admin-key"}
        assert client.post("/v1/admin/reload", headers=user).status_code == 401
        assert client.post("/v1/entities", json={"text": "Alma"}, headers=admin).status_code == 401
        outside = [
            client.post("/v1/admin/reload", json={"model_dir": path}, headers=admin)
            for path in ("/root", "/no/such/dir", str(bundle), "../", "next/../..")
        ]
        assert {response.status_code for response in outside} == {403}
        assert len({response.text for response in outside}) == 1  # the same words, existing or not
        assert "/root" not in outside[0].text
        assert client.post("/v1/admin/reload", json={"model_dir": "next"}, headers=admin).status_code == 200
        assert client.post("/v1/admin/reload", headers=admin).status_code == 200  # the current one again


def test_a_body_without_a_length_is_held_to_the_limit_too(bundle):
    # Over real HTTP: a chunked upload, and urllib, which sends its whole body before reading.
    import http.client
    import urllib.error
    import urllib.request

    from nerd.service.app import create_app
    from nerd.service.settings import ServiceSettings
    from tests.servers import serving

    app = create_app(ServiceSettings(_env_file=None, model_dir=bundle, max_body_bytes=10_000))
    with serving(app) as base:
        port = int(base.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port)
        chunks = (b"x" * 100_000 for _ in range(40))  # 4 MB, chunked
        connection.request("POST", "/v1/entities", body=chunks, encode_chunked=True)
        response = connection.getresponse()
        assert response.status == 413 and b"NERD_MAX_BODY_BYTES" in response.read()
        small = iter([b'{"text": ', b'"Alma met Borel"}'])
        connection = http.client.HTTPConnection("127.0.0.1", port)
        connection.request(
            "POST",
            "/v1/entities",
            body=small,
            encode_chunked=True,
            headers={"Content-Type": "application/json"},
        )
        assert connection.getresponse().status == 200
        request = urllib.request.Request(f"{base}/v1/entities", data=b'{"text": "' + b"y" * 4_000_000 + b'"}')
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request)
        assert refused.value.code == 413 and b"NERD_MAX_BODY_BYTES" in refused.value.read()


def test_without_a_key_the_answer_is_401_whatever_the_body(make_client):
    with make_client(api_keys=["k"]) as client:
        bad_json = client.post(
            "/v1/entities", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert bad_json.status_code == 401
        bad_utf8 = client.post(
            "/v1/entities", content=b'{"text": "\xff"}', headers={"Content-Type": "application/json"}
        )
        assert bad_utf8.status_code == 401
        keyed = client.post("/v1/entities", content=b"{not json", headers={"Authorization": "Bearer k"})
        assert keyed.status_code in {400, 422}


def test_a_short_text_is_not_tokenised_twice_and_a_long_one_is_counted_exactly(client, monkeypatch):
    """The route bounds a text's sub-tokens by its bytes; only texts over the bound are counted."""
    engine = client.app.state.holder.require()
    counted = []
    real = engine.subtokens
    monkeypatch.setattr(engine, "subtokens", lambda texts: counted.append(len(texts)) or real(texts))
    assert client.post("/v1/entities", json={"text": "Alma visited Quenby ."}).status_code == 200
    assert counted == []
    long = " ".join(["Alma visited Quenby with Borel ."] * 20)
    assert client.post("/v1/entities", json={"texts": ["Alma", long]}).status_code == 200
    assert counted == [1]
