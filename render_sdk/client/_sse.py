"""An incremental Server-Sent Events decoder, following the WHATWG ``text/event-stream`` rules.

Feed it text in chunks of any size (an event, or a line ending, may be split across chunks); it
returns the events completed by each chunk. Lines end with CRLF, LF or CR. ``data`` lines are
joined with LF, one space after the colon is dropped, comment lines (``:``) are ignored, the last
event id persists across events, ``retry`` sets the reconnection time, and an event without data
is not dispatched. Both the blocking and the async client use this one decoder.

    >>> decoder = SSEDecoder()
    >>> decoder.feed("id: 7\\nevent: task.completed\\ndata: {}\\n")
    []
    >>> decoder.feed("\\n")
    [ServerSentEvent(event='task.completed', data='{}', id='7')]
"""

from __future__ import annotations

import re

import attrs

_LINE_END = re.compile(r"\r\n|\r|\n")


@attrs.frozen
class ServerSentEvent:
    """One dispatched event: its type (``message`` by default), data and the last event id."""

    event: str
    data: str
    id: str | None


class SSEDecoder:
    """Turns chunks of an event stream into :class:`ServerSentEvent` objects.

    ``last_event_id`` is the id to send as ``Last-Event-ID`` when reconnecting; ``retry_ms`` is
    the server's reconnection time in milliseconds, or None if it sent none.

        decoder = SSEDecoder()
        for chunk in response.iter_text():
            for event in decoder.feed(chunk):
                handle(event)
    """

    __slots__ = ("_data", "_event", "_pending", "_skip_lf", "_started", "last_event_id", "retry_ms")

    def __init__(self) -> None:
        self._pending = ""
        self._skip_lf = False
        self._started = False
        self._data: list[str] = []
        self._event = ""
        self.last_event_id: str | None = None
        self.retry_ms: int | None = None

    def feed(self, text: str) -> list[ServerSentEvent]:
        """Decode one chunk; return the events that it completed, in order."""
        if not text:
            return []
        if not self._started:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
        if self._skip_lf:
            self._skip_lf = False
            if text[:1] == "\n":
                text = text[1:]
        buffer = self._pending + text if self._pending else text
        events: list[ServerSentEvent] = []
        start = 0
        for match in _LINE_END.finditer(buffer):
            event = self._line(buffer[start : match.start()])
            if event is not None:
                events.append(event)
            start = match.end()
        self._pending = buffer[start:]
        # A CR at the very end may be the first half of a CRLF split across chunks.
        self._skip_lf = buffer.endswith("\r")
        return events

    def reset_event(self) -> None:
        """Drop a partly received event (the connection broke); keep the last id and retry."""
        self._pending = ""
        self._skip_lf = False
        self._started = False
        self._data = []
        self._event = ""

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line[0] == ":":
            return None
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self.retry_ms = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = ServerSentEvent(
            event=self._event or "message", data="\n".join(self._data), id=self.last_event_id
        )
        self._data = []
        self._event = ""
        return event
