"""The engine under /v1/entities, called as a batch job or another front end would: no server, no HTTP."""

import asyncio

import pytest

from nerd.service.engine import EntityEngine
from nerd.service.metrics import ServiceMetrics
from nerd.service.model_holder import ModelHolder
from nerd.service.problems import OverLimit
from nerd.service.settings import ServiceSettings
from nerd.tagging.reading import Reading

TEXT = "  Alma met Borel in Quenby\r\n\twith Hollin 🙂 today.  "
READING = Reading()  # the service defaults, as a request without options gets


def run_engine(bundle, call, **settings):
    """Start an engine on the bundle, await ``call(engine)``, stop it: what the app's lifespan does."""
    settings = ServiceSettings(_env_file=None, model_dir=bundle, **settings)
    engine = EntityEngine(ModelHolder(settings, bundle), settings, ServiceMetrics())

    async def main():
        await engine.start()
        try:
            return await call(engine)
        finally:
            await engine.stop()

    return asyncio.run(main())


def test_the_engine_answers_what_the_route_answers_without_a_server(bundle, client):
    results, model = run_engine(bundle, lambda engine: engine.entities(texts=[TEXT, ""], reading=READING))
    over_http = client.post("/v1/entities", json={"texts": [TEXT, ""]}).json()
    assert [result.model_dump() for result in results] == over_http["results"]
    assert model.model_dump() == over_http["model"]
    assert {entity.text for entity in results[0].entities} >= {"Alma", "Quenby"}
    for entity in results[0].entities:
        assert TEXT[entity.start : entity.end] == entity.text


def test_tokens_give_token_indices(bundle):
    tokens = [["Alma", "met", "Borel", "in", "Tarn"]]
    results, _ = run_engine(bundle, lambda engine: engine.entities(tokens=tokens, reading=READING))
    for entity in results[0].entities:
        assert " ".join(tokens[0][entity.start : entity.end]) == entity.text


def test_a_text_over_the_sub_token_cap_is_refused_by_its_index(bundle):
    long = " ".join(["Quenby"] * 60)
    with pytest.raises(OverLimit, match=r"text 1: \d+ sub-tokens, over the limit of 50"):
        run_engine(
            bundle,
            lambda engine: engine.entities(texts=["Alma", long], reading=READING),
            max_text_tokens=50,
        )


def test_texts_and_tokens_together_are_a_programming_error(bundle):
    with pytest.raises(ValueError, match="texts or tokens"):
        run_engine(bundle, lambda engine: engine.entities(texts=["a"], tokens=[["a"]], reading=READING))
