import asyncio
import time

import pytest

from nerd.service.metrics import ServiceMetrics
from nerd.service.micro_batcher import MicroBatcher, Overloaded
from nerd.tagging.reading import Reading, WordPredictions


def recording_runner(calls, delay=0.0):
    def run(texts, reading):
        calls.append((len(texts), reading))
        time.sleep(delay)
        return [WordPredictions(["O"] * len(words), [1.0] * len(words), False) for words in texts]

    return run


def test_concurrent_requests_share_model_calls_and_keep_their_order():
    calls = []

    async def scenario():
        batcher = MicroBatcher(
            recording_runner(calls, 0.01),
            max_batch_size=8,
            max_wait=0.02,
            queue_size=100,
            metrics=ServiceMetrics(),
        )
        batcher.start()
        try:
            requests = [batcher.submit([["w"] * (i + 1)], Reading("first")) for i in range(20)]
            return await asyncio.gather(*requests)
        finally:
            await batcher.stop()

    results = asyncio.run(scenario())
    assert [len(r[0].tags) for r in results] == list(range(1, 21))
    assert sum(size for size, _ in calls) == 20 and max(size for size, _ in calls) == 8
    assert len(calls) < 20


def test_a_full_queue_is_refused_at_once():
    async def scenario():
        batcher = MicroBatcher(
            recording_runner([]), max_batch_size=4, max_wait=0.0, queue_size=3, metrics=ServiceMetrics()
        )
        with pytest.raises(Overloaded):
            await batcher.submit([["a"]] * 4, Reading("first"))
        await batcher.stop()

    asyncio.run(scenario())


def test_a_failing_model_call_fails_its_requests_and_the_worker_lives_on():
    state = {"fail": True}

    def run(texts, reading):
        if state.pop("fail", False):
            raise RuntimeError("model failed")
        return [WordPredictions([], [], False) for _ in texts]

    async def scenario():
        batcher = MicroBatcher(run, max_batch_size=4, max_wait=0.0, queue_size=10, metrics=ServiceMetrics())
        batcher.start()
        try:
            with pytest.raises(RuntimeError, match="model failed"):
                await batcher.submit([[]], Reading("first"))
            return await batcher.submit([[], []], Reading("max"))
        finally:
            await batcher.stop()

    assert len(asyncio.run(scenario())) == 2


def test_with_no_wait_a_lone_request_runs_alone_and_later_arrivals_share_the_next_call():
    calls = []

    async def scenario():
        batcher = MicroBatcher(
            recording_runner(calls, 0.1),
            max_batch_size=8,
            max_wait=0.0,
            queue_size=100,
            metrics=ServiceMetrics(),
        )
        batcher.start()
        try:
            first = asyncio.ensure_future(batcher.submit([["a"]], Reading("first")))
            while not calls:  # the first call is running, alone
                await asyncio.sleep(0.001)
            later = [batcher.submit([["b"] * (i + 1)], Reading("first")) for i in range(3)]
            return await asyncio.gather(first, *later)
        finally:
            await batcher.stop()

    results = asyncio.run(scenario())
    assert [len(r[0].tags) for r in results] == [1, 1, 2, 3]
    assert [size for size, _ in calls] == [1, 3]


def test_a_short_text_never_waits_behind_more_than_one_long_one():
    calls = []

    async def scenario():
        batcher = MicroBatcher(
            recording_runner(calls, 0.05),
            max_batch_size=8,
            max_wait=0.0,
            queue_size=100,
            metrics=ServiceMetrics(),
            long_cost=10,
        )
        batcher.start()
        try:
            big = asyncio.ensure_future(batcher.submit([["w"] * 50] * 4, Reading("first")))
            while not calls:  # the first long text is running
                await asyncio.sleep(0.001)
            small = await batcher.submit([["a"], ["b"]], Reading("first"))
            return small, await big
        finally:
            await batcher.stop()

    small, big = asyncio.run(scenario())
    assert [len(r.tags) for r in small] == [1, 1] and [len(r.tags) for r in big] == [50] * 4
    # One long text a call; the two short ones together, right after the first long one.
    assert [size for size, _ in calls] == [1, 2, 1, 1, 1]


def test_a_short_text_waits_for_one_model_call_of_a_long_text_not_the_whole_text():
    """Issue 25, item 9: four texts of 20,000 '!' (20,000 sub-tokens each) held one-sentence requests
    for seconds: a long text ran whole. Lanes go by sub-tokens, and a long text yields between calls."""
    calls = []

    def steps(words, reading):
        for step in range(5):  # five model calls
            calls.append(("long", step))
            time.sleep(0.02)
            yield
        return WordPredictions(["O"] * len(words), [1.0] * len(words), False)

    async def scenario():
        batcher = MicroBatcher(
            recording_runner(calls),
            max_batch_size=8,
            max_wait=0.0,
            queue_size=100,
            metrics=ServiceMetrics(),
            long_cost=10,
            steps=steps,
        )
        batcher.start()
        try:
            # Few words, many sub-tokens: the cost chooses the lane.
            heavy = asyncio.ensure_future(
                batcher.submit([["!!!!"]] * 2, Reading("first"), costs=[5000, 5000])
            )
            while not calls:
                await asyncio.sleep(0.001)
            small = await batcher.submit([["a"], ["b"]], Reading("first"), costs=[1, 1])
            return small, await heavy
        finally:
            await batcher.stop()

    small, heavy = asyncio.run(scenario())
    assert [len(r.tags) for r in small] == [1, 1] and [len(r.tags) for r in heavy] == [1, 1]
    # The short pair ran right after the long text's first call, before its second.
    assert calls[:2] == [("long", 0), (2, Reading("first"))], calls
    assert [call for call in calls if call[0] == "long"] == [("long", step) for step in range(5)] * 2


def test_a_long_text_whose_caller_has_gone_makes_no_more_calls():
    calls = []

    def steps(words, reading):
        for step in range(50):
            calls.append(step)
            time.sleep(0.01)
            yield
        return WordPredictions(["O"], [1.0], False)

    async def scenario():
        batcher = MicroBatcher(
            recording_runner([]), max_batch_size=8, max_wait=0.0, queue_size=100, metrics=ServiceMetrics(),
            long_cost=10, steps=steps,
        )  # fmt: skip
        batcher.start()
        try:
            request = asyncio.ensure_future(batcher.submit([["!"]], Reading("first"), costs=[500]))
            while len(calls) < 3:
                await asyncio.sleep(0.001)
            request.cancel()
            await asyncio.sleep(0.2)
        finally:
            await batcher.stop()

    asyncio.run(scenario())
    assert len(calls) < 10
