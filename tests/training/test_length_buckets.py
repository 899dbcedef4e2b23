import random

from hypothesis import given
from hypothesis import strategies as st

from nerd.inference_batches import inference_batches
from nerd.training.length_buckets import shard, training_batches


@given(st.lists(st.integers(1, 128), max_size=300), st.integers(1, 40), st.integers(0, 10**6))
def test_training_batches_use_every_window_once(lengths, batch_size, seed):
    batches = training_batches(lengths, batch_size, random.Random(seed), pool_batches=3)
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(len(lengths)))
    assert all(1 <= len(batch) <= batch_size for batch in batches)


def test_batches_hold_windows_of_similar_length():
    rng = random.Random(0)
    lengths = [rng.randint(5, 120) for _ in range(2000)]
    batches = training_batches(lengths, 16, random.Random(1))
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches) / len(batches)
    assert spread < 10  # unsorted batches of 16 from 5..120 spread over ~100


def test_the_same_seed_gives_the_same_batches():
    lengths = list(range(1, 100))
    assert training_batches(lengths, 8, random.Random(3)) == training_batches(lengths, 8, random.Random(3))


def test_inference_batches_are_sorted_by_length():
    lengths = [5, 1, 4, 2, 3]
    assert inference_batches(lengths, 2) == [[1, 3], [4, 2], [0]]


@given(st.integers(0, 50), st.integers(1, 5))
def test_every_process_gets_as_many_batches_and_none_is_lost(count, world):
    batches = [[i] for i in range(count)]
    shares = [shard(batches, rank, world) for rank in range(world)]
    assert len({len(share) for share in shares}) == 1
    assert {b[0] for share in shares for b in share} == set(range(count))
