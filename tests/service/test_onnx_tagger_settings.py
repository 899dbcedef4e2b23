"""The engine's session settings and batching: what is configured reaches onnxruntime, and how texts are
grouped into model calls never changes an answer."""

import random

import pytest

from nerd.tagging.onnx_tagger import SLOW_CPU_FUSIONS, OnnxTagger


def test_spinning_and_the_slow_fusions_reach_the_session(bundle, monkeypatch):
    import onnxruntime

    created = []
    real = onnxruntime.InferenceSession

    def recording(path, options, **kwargs):
        created.append((options.get_session_config_entry("session.intra_op.allow_spinning"), kwargs))
        return real(path, options, **kwargs)

    monkeypatch.setattr(onnxruntime, "InferenceSession", recording)
    OnnxTagger(bundle, threads=1)
    OnnxTagger(bundle, threads=1, spinning=True)
    assert [spinning for spinning, _ in created] == ["0", "1"]
    assert all(kwargs["disabled_optimizers"] == list(SLOW_CPU_FUSIONS) for _, kwargs in created)


def test_the_service_setting_turns_spinning_on(make_client, monkeypatch):
    seen = []
    real = OnnxTagger.__init__

    def recording(self, *args, **kwargs):
        seen.append(kwargs.get("spinning"))
        real(self, *args, **kwargs)

    monkeypatch.setattr(OnnxTagger, "__init__", recording)
    with make_client(spinning=True) as client:
        assert client.get("/readyz").status_code == 200
    with make_client() as client:
        assert client.get("/readyz").status_code == 200
    assert seen == [True, False]


@pytest.mark.parametrize("max_tokens", [1, 16, 64, None])
def test_a_token_cap_changes_the_model_calls_not_the_answers(bundle, max_tokens):
    tagger = OnnxTagger(bundle, threads=1)
    rng = random.Random(3)
    words = ["Alma", "met", "Borel", "in", "Quenby", "with", "the", "report", "Ibex"]
    texts = [rng.choices(words, k=rng.randint(1, 40)) for _ in range(20)]
    calls = []
    real = tagger.logits

    def counting(windows):
        calls.append(len(windows))
        return real(windows)

    tagger.logits = counting
    capped = tagger.analyse(texts, batch_size=32, max_tokens=max_tokens)
    capped_calls = len(calls)
    plain = tagger.analyse(texts, batch_size=32)
    assert [p.tags for p in capped] == [p.tags for p in plain]
    assert len(calls) - capped_calls == 1  # 20 texts, rows for 32: one call without a cap
    if max_tokens is not None and max_tokens <= 64:
        assert capped_calls > 1
