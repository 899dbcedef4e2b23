"""Why a record of a teacher's answer files was not imported: the ``reason`` of every rejects line and the
keys of the report's ``rejected_by_reason`` (a ``StrEnum``, so the files keep their plain strings)."""

from __future__ import annotations

from enum import StrEnum


class RejectReason(StrEnum):
    # The line itself
    INVALID_UTF8 = "invalid_utf8"
    BROKEN_JSON_LINE = "broken_json_line"
    LINE_TOO_LONG = "line_too_long"
    LONE_SURROGATE = "lone_surrogate"
    WRONG_SHAPE = "wrong_shape"
    # A line of a requests file that names no usable request (its answer, if any, is then unknown_custom_id)
    BAD_REQUEST = "bad_request"
    # Which request it answers
    MISSING_ID = "missing_id"
    MISSING_CUSTOM_ID = "missing_custom_id"
    UNKNOWN_CUSTOM_ID = "unknown_custom_id"
    NO_RESPONSE = "no_response"
    # What the teacher answered
    FAILED_REQUEST = "failed_request"
    TRUNCATED = "truncated"
    NO_ANSWER_DICT = "no_answer_dict"
    MALFORMED_DICT = "malformed_dict"
    NO_GENERATED_LIST = "no_generated_list"
    MALFORMED_LIST = "malformed_list"
    NO_GENERATED_SENTENCES = "no_generated_sentences"
    EMPTY_SENTENCE = "empty_sentence"
    ENTITY_NOT_IN_TEXT = "entity_not_in_text"
    HALLUCINATED_ENTITY = "hallucinated_entity"
