"""The service's work, independent of HTTP: texts (or pre-split tokens) in, entities and the model out.

As infinity's engine sits under its routes, :class:`EntityEngine` is what ``/v1/entities`` calls, and
what a test or another front end (a batch job, a queue consumer) can call without a server: it
tokenises, bounds each text's sub-token cost, hands the words to the micro-batcher that shares model
calls between concurrent callers, and maps the predictions back to character offsets. The request's
own limits (how many texts, how many characters) and its response stay in the route.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Sequence

from nerd.service.entities import entities_in_text, entities_in_tokens
from nerd.service.metrics import ServiceMetrics
from nerd.service.micro_batcher import MicroBatcher
from nerd.service.model_holder import ModelHolder
from nerd.service.problems import OverLimit
from nerd.service.schemas import ModelRef, ResultOut
from nerd.service.settings import ServiceSettings
from nerd.tagging.bundle_tagger import BundleTagger
from nerd.tagging.reading import Reading, WordPredictions
from nerd.tokenization import tokenize

# Above this many bytes a request's sub-tokens are counted off the event loop (tokenising 64 texts of
# 20,000 characters takes long enough to hold every other connection).
INLINE_COUNT_BYTES = 16_384


class EntityEngine:
    """One bundle's entities for any number of concurrent callers; ``start`` before use, ``stop`` after."""

    def __init__(self, holder: ModelHolder, settings: ServiceSettings, metrics: ServiceMetrics) -> None:
        self.holder = holder
        self.settings = settings
        self.metrics = metrics
        self.batcher: MicroBatcher | None = None

    async def start(self) -> None:
        """Load and verify the bundle (in a thread: it takes seconds) and start the batcher."""
        await asyncio.get_running_loop().run_in_executor(None, self.holder.load)
        settings = self.settings
        self.batcher = MicroBatcher(
            self._run,
            max_batch_size=settings.max_batch_size,
            max_wait=settings.max_wait_ms / 1000,
            queue_size=settings.queue_size,
            metrics=self.metrics,
            long_cost=settings.max_batch_tokens,
            steps=self._steps,
        )
        self.batcher.start()

    async def stop(self) -> None:
        if self.batcher is not None:
            await self.batcher.stop()

    async def entities(
        self,
        *,
        texts: Sequence[str] | None = None,
        tokens: Sequence[Sequence[str]] | None = None,
        reading: Reading,
    ) -> tuple[list[ResultOut], ModelRef]:
        """Each text's entities, in input order, and the model that found them.

        Exactly one of ``texts`` (offsets are characters into each text) and ``tokens`` (offsets are
        token indices) is given. A text over ``max_text_tokens`` sub-tokens is :class:`OverLimit`; a
        full queue is ``Overloaded``; no model yet is ``NotReady``.
        """
        if (texts is None) == (tokens is None):
            raise ValueError("give texts or tokens, not both and not neither")
        if self.batcher is None:
            raise RuntimeError("EntityEngine.start() has not run")
        tagger = self.holder.require()  # the model of this request, even if a reload swaps it meanwhile
        if tokens is not None:
            words = [list(text_tokens) for text_tokens in tokens]
        else:
            assert texts is not None
            split = [tokenize(text) for text in texts]
            words = [[word.text for word in text_words] for text_words in split]
        costs = await self._subtoken_costs(words, tagger)
        for index, cost in enumerate(costs):
            if cost > self.settings.max_text_tokens:
                raise OverLimit(
                    f"text {index}: {cost} sub-tokens, over the limit of {self.settings.max_text_tokens} "
                    "(NERD_MAX_TEXT_TOKENS)"
                )
        predictions = await self.batcher.submit(words, reading, costs)
        results = []
        for index, predicted in enumerate(predictions):
            if tokens is not None:
                found = entities_in_tokens(tokens[index], predicted)
            else:
                assert texts is not None
                found = entities_in_text(texts[index], split[index], predicted)
            results.append(
                ResultOut(entities=[vars(entity) for entity in found], truncated=predicted.truncated)
            )
        return results, self.model_ref(tagger)

    @staticmethod
    def model_ref(tagger: BundleTagger) -> ModelRef:
        manifest = tagger.manifest
        return ModelRef(
            name=manifest.name,
            version=manifest.created,
            sha256=tagger.model_sha256,
            bundle_sha256=tagger.bundle_sha256,
        )

    async def _subtoken_costs(self, words: list[list[str]], tagger: BundleTagger) -> list[int]:
        """A text's cost is its sub-tokens, not its characters: what the cap and the batcher's lanes read.

        A sub-token covers at least one byte of its word, plus at most one marker token a word
        (byte-level BPE, SentencePiece), so a text whose bound stays under both the cap and one model
        call's size needs no tokenising here: typical sentences cost nothing extra. Only the others are
        counted exactly.
        """
        costs = [sum(len(word.encode("utf-8", "surrogatepass")) + 1 for word in text) for text in words]
        threshold = min(self.settings.max_text_tokens, self.settings.max_batch_tokens)
        counted = [index for index, bound in enumerate(costs) if bound > threshold]
        if not counted:
            return costs
        texts = [words[index] for index in counted]
        if sum(costs[index] for index in counted) > INLINE_COUNT_BYTES:
            exact = await asyncio.get_running_loop().run_in_executor(None, tagger.subtokens, texts)
        else:
            exact = tagger.subtokens(texts)
        for index, cost in zip(counted, exact, strict=True):
            costs[index] = cost
        return costs

    def _run(self, words: Sequence[Sequence[str]], reading: Reading) -> list[WordPredictions]:
        # Read the model per call: a reload swaps it between batches, never inside one.
        return self.holder.require().analyse(words, **self._call_options(reading))

    def _steps(self, words: Sequence[str], reading: Reading) -> Generator[None, None, WordPredictions]:
        # A long text keeps the model it started on until its last call.
        (predictions,) = yield from self.holder.require().analyse_steps(
            [words], **self._call_options(reading)
        )
        return predictions

    def _call_options(self, reading: Reading) -> dict:
        return {
            "aggregation": reading.aggregation,
            "decoding": reading.decoding,
            "batch_size": self.settings.max_batch_size,
            "max_tokens": self.settings.max_batch_tokens,
            "stride": self.settings.stride,
        }
