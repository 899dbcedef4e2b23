"""The word-embedding table in int8 with one scale per row (``quantize_rows``)."""

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

from nerd.export.onnx_variants import quantize_rows, word_embedding_gathers


def _lookup_model(path, table):
    graph = helper.make_graph(
        [
            helper.make_node(
                "Gather", ["table", "input_ids"], ["embedded"], name="/emb/word_embeddings/Gather"
            ),
            helper.make_node(
                "Gather", ["positions", "position_ids"], ["placed"], name="/emb/positions/Gather"
            ),
        ],
        "lookup",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
            helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "length"]),
        ],
        [
            helper.make_tensor_value_info("embedded", TensorProto.FLOAT, ["batch", "length", table.shape[1]]),
            helper.make_tensor_value_info("placed", TensorProto.FLOAT, ["batch", "length", table.shape[1]]),
        ],
        [numpy_helper.from_array(table, "table"), numpy_helper.from_array(table[:4].copy(), "positions")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(path))


def _run(path, ids):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input_ids": ids, "position_ids": np.zeros_like(ids)})


def test_each_row_keeps_its_own_precision(tmp_path):
    rng = np.random.default_rng(0)
    table = rng.normal(0, 0.05, size=(50, 16)).astype(np.float32)
    table[7] *= 400  # one token with a huge vector: one scale for the table would flatten every other row
    path = tmp_path / "model.onnx"
    _lookup_model(path, table)
    ids = np.array([[0, 3, 7, 49], [1, 2, 3, 4]], dtype=np.int64)
    (before, _) = _run(path, ids)

    assert word_embedding_gathers(path) == ["/emb/word_embeddings/Gather"]
    assert quantize_rows(path, word_embedding_gathers(path)) == 1

    (after, placed) = _run(path, ids)
    row_bound = np.abs(table[ids]).max(axis=-1, keepdims=True) / 254 + 1e-7
    assert np.all(np.abs(after - before) <= row_bound)
    # the same error bound with one scale for the table would be 400 times as large
    assert np.abs(after[0, 0] - before[0, 0]).max() < np.abs(table).max() / 254 / 10
    stored = {t.name: t.data_type for t in onnx.load(str(path)).graph.initializer}
    assert TensorProto.INT8 in stored.values() and "table" not in stored
    assert np.array_equal(placed, np.zeros((2, 4, 16), np.float32) + table[0])  # not an input_ids lookup


def test_a_model_without_such_a_lookup_is_left_as_it_is(tmp_path):
    path = tmp_path / "model.onnx"
    _lookup_model(path, np.ones((5, 4), np.float32))
    before = path.read_bytes()
    assert quantize_rows(path, ["no such node"]) == 0
    assert path.read_bytes() == before
