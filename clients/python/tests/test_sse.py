"""The SSE parser: the bridge's frames, and its bounds."""
from __future__ import annotations

import io
import unittest

from portal_bridge import StreamError
from portal_bridge.sse import read_frames


def frames(text: bytes, **bounds: int) -> list:
    return list(read_frames(io.BytesIO(text), **bounds))


class SseParserTest(unittest.TestCase):
    def test_the_bridges_frames(self) -> None:
        got = frames(
            b"retry: 1000\nevent: ready\nid: 0000000000000041\n"
            b'data: {"cursor":"0000000000000041","resumed":false,"heartbeatSeconds":15}\n\n'
            b'id: 0000000000000042\ndata: {"id":"user:ann:3"}\n\n'
            b": heartbeat\n\n"
            b'event: close\r\nid: 0000000000000042\r\ndata: {"reason":"max-duration"}\r\n\r\n'
        )
        self.assertEqual([(f.event, f.id, f.comment) for f in got], [
            ("ready", "0000000000000041", False),
            (None, "0000000000000042", False),
            (None, None, True),
            ("close", "0000000000000042", False),
        ])
        self.assertEqual(got[0].retry_ms, 1000)
        self.assertEqual(got[1].data, '{"id":"user:ann:3"}')

    def test_multi_line_data_and_unknown_fields(self) -> None:
        (frame,) = frames(b"data: a\ndata:b\nfoo: bar\n\n")
        self.assertEqual(frame.data, "a\nb")

    def test_a_frame_cut_off_by_the_end_of_the_stream_is_dropped(self) -> None:
        self.assertEqual(frames(b"id: 1\ndata: {}\n"), [])
        self.assertEqual(frames(b"id: 1\ndata: {"), [])

    def test_bounds(self) -> None:
        with self.assertRaises(StreamError):
            frames(b"data: " + b"x" * 200 + b"\n\n", max_line_bytes=100)
        with self.assertRaises(StreamError):
            frames(b"data: " + b"x" * 60 + b"\n" + b"data: " + b"x" * 60 + b"\n\n", max_line_bytes=100, max_frame_bytes=100)
        self.assertEqual(len(frames(b"data: " + b"x" * 90 + b"\n\n", max_line_bytes=100)), 1)
