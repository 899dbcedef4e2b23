"""The pieces of ``nerd annotate`` that need no server: request files, the answer log, retry timing."""

from __future__ import annotations

import asyncio
import json
import random
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nerd.annotation.answer_log import AnswerLog, error_line, output_line
from nerd.annotation.rate_limit import RateLimiter
from nerd.annotation.request_set import read_requests
from nerd.annotation.retry_policy import RetryPolicy, is_retryable, retry_after_seconds
from nerd.errors import InputError

REQUEST = {
    "custom_id": "s-1",
    "method": "POST",
    "url": "/v1/chat/completions",
    "body": {"model": "m", "messages": [{"role": "user", "content": "Sentence: Ann ran ."}]},
}


def write(path: Path, *records: object) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def test_every_bad_request_line_is_named_and_nothing_is_read(tmp_path):
    path = write(
        tmp_path / "requests-00001.jsonl",
        REQUEST,
        "{broken",
        {**REQUEST, "custom_id": "s-2", "url": "/v1/embeddings"},
        {**REQUEST, "custom_id": "s-3", "body": {"model": "m", "messages": []}},
        {**REQUEST, "body": {**REQUEST["body"], "model": "other"}},
    )
    with pytest.raises(InputError) as error:
        read_requests([path])
    message = str(error.value)
    assert "4 request line(s)" in message
    for where in (":2:", ":3 [url]", ":4 [body.messages]", ":5 [custom_id]"):
        assert where in message, where


def test_a_repeated_identical_request_is_read_once_and_overrides_apply(tmp_path):
    first = write(tmp_path / "a.jsonl", REQUEST)
    second = write(tmp_path / "b.jsonl", REQUEST, {**REQUEST, "custom_id": "s-2"})
    requests = read_requests([first, second], model="local", temperature=0.3)
    assert [r.custom_id for r in requests] == ["s-1", "s-2"]
    assert {r.body["model"] for r in requests} == {"local"} and {r.body["temperature"] for r in requests} == {
        0.3
    }


def test_empty_request_input_is_an_error(tmp_path):
    with pytest.raises(InputError, match="no request to send"):
        read_requests([write(tmp_path / "empty.jsonl")])
    (tmp_path / "dir").mkdir()
    with pytest.raises(InputError, match="no requests-"):
        read_requests([tmp_path / "dir"])


@given(st.binary(max_size=400))
def test_any_bytes_in_a_request_file_are_read_or_refused_clearly(data):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "requests-00001.jsonl"
        path.write_bytes(data)
        try:
            requests = read_requests([path])
        except InputError as error:
            assert str(error)
        else:
            assert requests


@given(
    st.lists(st.one_of(st.binary(max_size=80), st.just(json.dumps({"custom_id": "x"}).encode())), max_size=6)
)
def test_any_bytes_in_a_result_file_are_read_or_refused_clearly(chunks):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "output.jsonl").write_bytes(b"\n".join(chunks))
        try:
            log = AnswerLog(Path(folder), repair=False)
        except InputError as error:
            assert "output.jsonl" in str(error)
        else:
            assert log.answered <= {"x"}


def test_the_log_keeps_each_id_in_one_file_and_forgets_failures_on_request(tmp_path):
    log = AnswerLog(tmp_path)
    log.record_failure(error_line("a", "http_500", "boom", status=500))
    log.record_answer(output_line("b", {"choices": []}))
    log.record_failure(error_line("b", "http_500", "late failure"))  # already answered: ignored
    assert log.forget_failures(["a", "b"]) == 1
    log.record_answer(output_line("a", {"choices": []}))
    reopened = AnswerLog(tmp_path)
    assert reopened.answered == {"a", "b"} and reopened.failed == set()
    assert (tmp_path / "errors.jsonl").read_text() == ""


def test_retry_after_headers_in_seconds_milliseconds_and_dates():
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "20", "retry-after": "9"}) == 0.02
    date = "Mon, 30 Nov 2026 12:00:10 GMT"
    now = time.mktime(time.strptime("2026-11-30 12:00:00", "%Y-%m-%d %H:%M:%S")) - time.timezone
    assert retry_after_seconds({"retry-after": date}, now=now) == pytest.approx(10.0)
    assert retry_after_seconds({}) is None and retry_after_seconds({"retry-after": "-"}) is None


def test_backoff_doubles_under_a_cap_with_jitter_and_obeys_the_server():
    policy = RetryPolicy(max_retries=5, base_delay=1.0, max_delay=5.0)
    rng = random.Random(0)
    for retry, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)):
        waits = [policy.delay(retry, rng=rng) for _ in range(200)]
        assert min(waits) >= 0 and max(waits) <= ceiling and max(waits) > ceiling / 2
    assert policy.delay(1, 42.0) == 42.0
    assert all(is_retryable(s) for s in (None, 408, 409, 429, 500, 502, 503))
    assert not any(is_retryable(s) for s in (400, 401, 403, 404, 422))


def test_the_rate_limit_spaces_starts_and_a_pause_holds_everyone():
    async def starts(limiter: RateLimiter, count: int, pause: float = 0.0) -> float:
        began = time.monotonic()
        if pause:
            limiter.pause(pause)
        await asyncio.gather(*(limiter.wait_turn() for _ in range(count)))
        return time.monotonic() - began

    assert asyncio.run(starts(RateLimiter(rpm=1200), 5)) >= 4 * 0.05 * 0.9
    assert asyncio.run(starts(RateLimiter(), 20)) < 0.5  # no limit: no spacing (loose: a loaded machine)
    assert asyncio.run(starts(RateLimiter(), 3, pause=0.2)) >= 0.19
