"""The SSE decoder against the awkward framings the spec allows."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from render_sdk.client._sse import ServerSentEvent, SSEDecoder


def decode(*chunks: str) -> tuple[list[ServerSentEvent], SSEDecoder]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    return events, decoder


def test_simple_event() -> None:
    events, decoder = decode('retry: 1500\nid: 4\nevent: task.completed\ndata: {"a": 1}\n\n')
    assert events == [ServerSentEvent("task.completed", '{"a": 1}', "4")]
    assert decoder.retry_ms == 1500
    assert decoder.last_event_id == "4"


def test_default_event_type_is_message() -> None:
    events, _ = decode("data: x\n\n")
    assert events == [ServerSentEvent("message", "x", None)]


def test_comments_and_pings_are_ignored() -> None:
    events, _ = decode(": ping\n\n: ping\ndata: y\n: note inside\n\n")
    assert [e.data for e in events] == ["y"]


def test_multi_line_data_joined_with_lf() -> None:
    events, _ = decode("data: one\ndata:two\ndata:  three\n\n")
    assert events[0].data == "one\ntwo\n three"


def test_crlf_and_cr_line_endings() -> None:
    crlf, _ = decode("id: 1\r\nevent: e\r\ndata: a\r\n\r\n")
    cr, _ = decode("id: 1\revent: e\rdata: a\r\r")
    assert crlf == cr == [ServerSentEvent("e", "a", "1")]


def test_crlf_split_between_chunks_is_one_line_end() -> None:
    events, _ = decode("data: a\r", "\n", "data: b\r", "\n\r", "\n")
    assert events == [ServerSentEvent("message", "a\nb", None)]


def test_event_split_across_many_chunks() -> None:
    text = 'id: 9\nevent: task.failed\ndata: {"id": "trn-1"}\n\n'
    events, _ = decode(*text)  # one character per chunk
    assert events == [ServerSentEvent("task.failed", '{"id": "trn-1"}', "9")]


def test_field_without_colon_and_without_space() -> None:
    events, _ = decode("data\n\ndata:x\n\n")
    assert [e.data for e in events] == ["", "x"]


def test_event_without_data_is_not_dispatched_and_type_resets() -> None:
    events, _ = decode("event: lonely\n\ndata: z\n\n")
    assert events == [ServerSentEvent("message", "z", None)]


def test_unterminated_event_is_not_dispatched() -> None:
    events, _ = decode("data: partial\n")
    assert events == []


def test_last_event_id_persists_and_id_with_nul_is_ignored() -> None:
    events, decoder = decode("id: 5\ndata: a\n\ndata: b\n\nid: x\0y\ndata: c\n\n")
    assert [e.id for e in events] == ["5", "5", "5"]
    assert decoder.last_event_id == "5"


def test_invalid_retry_is_ignored() -> None:
    _, decoder = decode("retry: 10s\nretry: ²\n")
    assert decoder.retry_ms is None


def test_bom_is_stripped_at_start_only() -> None:
    events, _ = decode("\ufeffdata: a\n\n")
    assert events[0].data == "a"


def test_unknown_fields_are_ignored() -> None:
    events, _ = decode("foo: bar\ndata: a\n\n")
    assert events == [ServerSentEvent("message", "a", None)]


def test_reset_event_drops_a_partial_event_but_keeps_id_and_retry() -> None:
    decoder = SSEDecoder()
    decoder.feed("retry: 20\nid: 3\ndata: a\n\ndata: half")
    decoder.reset_event()
    assert decoder.feed("data: b\n\n") == [ServerSentEvent("message", "b", "3")]
    assert decoder.retry_ms == 20


STREAM = (
    "retry: 3000\r\n: ping\r\n\r\n"
    'id: 1\nevent: task.completed\ndata: {"id": "trn-a"}\n\n'
    "id: 2\revent: task.failed\rdata: line1\rdata: line2\r\r"
    ": ping\n\n"
    "id: 3\r\nevent: other\r\ndata: é\r\n\r\n"
)
EXPECTED = [
    ServerSentEvent("task.completed", '{"id": "trn-a"}', "1"),
    ServerSentEvent("task.failed", "line1\nline2", "2"),
    ServerSentEvent("other", "é", "3"),
]


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_any_chunking_gives_the_same_events(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    chunks = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    events, decoder = decode(*chunks)
    assert events == EXPECTED
    assert decoder.retry_ms == 3000
