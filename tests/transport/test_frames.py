"""Synchronous tests of the sans-I/O frame codec (``trio_venues._fastws._frames``)."""

from __future__ import annotations

import struct
import zlib

import pytest

from trio_venues._fastws._deflate import DeflateParams, Inflater
from trio_venues._fastws._frames import (
    CloseReceived,
    FrameDecoder,
    FrameEncoder,
    ProtocolFailure,
    is_valid_close_code,
    mask,
)
from trio_venues._transport import Ping, Pong

Item = str | bytes | Ping | Pong


def frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = False,
    length: int | None = None,
) -> bytes:
    """A server frame built exactly as asked (valid or not)."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    mbit = 0x80 if masked else 0
    if n < 126:
        header = bytes((b0, mbit | n))
    elif n < 0x10000:
        header = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        header = struct.pack("!BBQ", b0, mbit | 127, n)
    if masked:
        key = b"\x01\x02\x03\x04"
        return header + key + mask(payload, key)
    return header + payload


def text(s: str, **kw: object) -> bytes:
    """A text frame."""
    return frame(1, s.encode(), **kw)  # type: ignore[arg-type]


def close(code: int | None = None, reason: bytes = b"") -> bytes:
    """A close frame with an optional code and raw reason bytes."""
    payload = b"" if code is None else code.to_bytes(2, "big") + reason
    return frame(8, payload)


def deflate(data: bytes) -> bytes:
    """Compress one message as permessage-deflate does (sync flush, tail stripped)."""
    c = zlib.compressobj(wbits=-15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def decoder(
    max_size: int = 1 << 20, max_fragments: int = 64, inflate: DeflateParams | None = None
) -> FrameDecoder[Ping | Pong]:
    """A decoder with Ping/Pong items."""
    return FrameDecoder(
        ping=Ping,
        pong=Pong,
        max_message_size=max_size,
        max_fragments=max_fragments,
        inflater=Inflater(inflate) if inflate is not None else None,
    )


def feed(dec: FrameDecoder[Ping | Pong], data: bytes, step: int | None = None) -> list[Item]:
    """Feed ``data`` whole or in ``step``-byte pieces; collect the items."""
    if step is None:
        return dec.receive_data(data)
    out: list[Item] = []
    for i in range(0, len(data), step):
        out += dec.receive_data(data[i : i + step])
    return out


def failure(dec: FrameDecoder[Ping | Pong]) -> int:
    """The close code of the decoder's protocol failure."""
    assert isinstance(dec.outcome, ProtocolFailure), dec.outcome
    return dec.outcome.close_code


# -- valid traffic ---------------------------------------------------------------------


def test_many_frames_in_one_read_come_out_in_order() -> None:
    """One read holding text, binary, ping and pong frames yields all of them, in order."""
    data = text("a") + frame(2, b"\x00\xff") + frame(9, b"hi") + frame(10, b"yo") + text("é")
    assert feed(decoder(), data) == ["a", b"\x00\xff", Ping(b"hi"), Pong(b"yo"), "é"]


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
def test_every_length_encoding_decodes(size: int) -> None:
    """7-bit, 16-bit and 64-bit payload lengths decode, at their boundaries too."""
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    assert feed(decoder(), frame(2, payload)) == [payload]


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64])
def test_frames_split_at_every_boundary_decode_identically(step: int) -> None:
    """Feeding the same bytes in pieces of any size gives the same items."""
    data = (
        text("hello")
        + frame(2, b"x" * 300)
        + frame(9, b"p" * 125)
        + text("frag", fin=False)
        + frame(10, b"")
        + frame(0, "ü€".encode(), fin=False)
        + frame(0, b"!")
        + text("z" * 70_000)
    )
    expected = ["hello", b"x" * 300, Ping(b"p" * 125), Pong(b""), "fragü€!", "z" * 70_000]
    dec = decoder()
    assert feed(dec, data, step) == expected
    assert dec.outcome is None


def test_text_is_str_and_binary_is_bytes_even_from_bytearray() -> None:
    """Text messages are ``str``, binary ``bytes``, whatever buffer type is fed."""
    out = decoder().receive_data(bytearray(text("t") + frame(2, b"b")))
    assert out == ["t", b"b"]
    assert type(out[1]) is bytes


def test_utf8_character_split_across_fragments_is_valid() -> None:
    """A multi-byte character split between two fragments decodes."""
    raw = "😀".encode()
    data = frame(1, raw[:1], fin=False) + frame(0, raw[1:3], fin=False) + frame(0, raw[3:])
    assert feed(decoder(), data) == ["😀"]


def test_empty_messages_decode() -> None:
    """Empty text and binary messages, whole or fragmented, decode as empty values."""
    data = text("") + frame(2, b"") + text("", fin=False) + frame(0, b"")
    assert feed(decoder(), data) == ["", b"", ""]


# -- close frames --------------------------------------------------------------------


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1011, 1012, 1013, 1014, 3000, 4999])
def test_valid_close_codes_are_received(code: int) -> None:
    """A close frame with a valid code (1014 included) is recorded with its reason."""
    dec = decoder()
    assert feed(dec, text("before") + close(code, b"bye") + text("after")) == ["before"]
    assert dec.outcome == CloseReceived(code, "bye")


def test_close_without_payload_reports_1005() -> None:
    """An empty close frame reports code 1005."""
    dec = decoder()
    feed(dec, close())
    assert dec.outcome == CloseReceived(1005, "")


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535])
def test_invalid_close_codes_fail_with_1002(code: int) -> None:
    """Close codes that may not appear on the wire are a protocol error (1002)."""
    dec = decoder()
    feed(dec, close(code))
    assert failure(dec) == 1002


def test_one_byte_close_payload_fails_with_1002() -> None:
    """A close payload of one byte is a protocol error."""
    dec = decoder()
    feed(dec, frame(8, b"\x03"))
    assert failure(dec) == 1002


def test_invalid_utf8_close_reason_fails_with_1007() -> None:
    """A close reason that is not UTF-8 fails with 1007."""
    dec = decoder()
    feed(dec, close(1000, b"\xff\xfe"))
    assert failure(dec) == 1007


def test_close_in_the_middle_of_a_fragmented_message_is_accepted() -> None:
    """A close frame between fragments ends the connection normally (Autobahn 7.1.5)."""
    dec = decoder()
    assert feed(dec, text("part", fin=False) + close(1000) + frame(0, b"rest")) == []
    assert dec.outcome == CloseReceived(1000, "")


def test_bytes_after_the_outcome_are_ignored() -> None:
    """Once closed, later data produces nothing and never changes the outcome."""
    dec = decoder()
    feed(dec, close(1001))
    assert dec.receive_data(text("late") + frame(3, b"")) == []
    assert dec.outcome == CloseReceived(1001, "")


# -- violations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(text("x", rsv=4), 1002, id="rsv1-without-extension"),
        pytest.param(text("x", rsv=2), 1002, id="rsv2"),
        pytest.param(text("x", rsv=1), 1002, id="rsv3"),
        pytest.param(frame(9, b"", rsv=4), 1002, id="rsv-on-control"),
        *(pytest.param(frame(op, b"x"), 1002, id=f"reserved-opcode-{op}") for op in range(3, 8)),
        *(pytest.param(frame(op, b""), 1002, id=f"reserved-opcode-{op}") for op in range(11, 16)),
        pytest.param(frame(9, b"x" * 126), 1002, id="ping-over-125"),
        pytest.param(frame(10, b"x" * 126), 1002, id="pong-over-125"),
        pytest.param(frame(8, b"\x03\xe8" + b"x" * 124), 1002, id="close-over-125"),
        pytest.param(frame(9, b"", fin=False), 1002, id="fragmented-ping"),
        pytest.param(frame(8, b"\x03\xe8", fin=False), 1002, id="fragmented-close"),
        pytest.param(frame(0, b"x"), 1002, id="unexpected-continuation"),
        pytest.param(text("a", fin=False) + text("b"), 1002, id="new-message-mid-fragments"),
        pytest.param(frame(0, b"x", rsv=4), 1002, id="continuation-without-message-rsv"),
        pytest.param(text("x", masked=True), 1002, id="masked-server-frame"),
        pytest.param(b"\x82\x7f\x80" + bytes(7), 1002, id="64-bit-length-msb"),
        pytest.param(frame(1, b"\xc3\x28"), 1007, id="invalid-utf8"),
        pytest.param(frame(1, b"\xed\xa0\x80"), 1007, id="utf8-surrogate"),
        pytest.param(frame(1, b"\xf4\x90\x80\x80"), 1007, id="utf8-over-u10ffff"),
        pytest.param(frame(1, b"\xc0\xaf"), 1007, id="utf8-overlong"),
        pytest.param(frame(1, b"\xe2\x82", fin=False) + frame(0, b""), 1007, id="utf8-truncated"),
    ],
)
def test_each_violation_fails_with_its_close_code(data: bytes, code: int) -> None:
    """Each protocol violation class ends the decoder with the close code RFC 6455 asks for."""
    dec = decoder()
    assert feed(dec, text("ok") + data) == ["ok"]
    assert failure(dec) == code


def test_invalid_utf8_fails_fast_before_the_message_ends() -> None:
    """Invalid UTF-8 in a first fragment fails at once, without waiting for the last one."""
    dec = decoder()
    feed(dec, frame(1, b"ok\xff", fin=False))
    assert failure(dec) == 1007


def test_invalid_utf8_fails_fast_inside_a_partial_frame() -> None:
    """Invalid UTF-8 fails as soon as it arrives, even mid-frame (Autobahn 6.4.3)."""
    dec = decoder()
    whole = frame(1, b"valid" + b"\xf4\x90" + b"x" * 100)
    feed(dec, whole[:7])
    assert dec.outcome is None
    feed(dec, whole[7:10])
    assert failure(dec) == 1007


def test_utf8_split_across_fragments_with_bad_continuation_fails() -> None:
    """A character started in one fragment and broken in the next fails with 1007."""
    dec = decoder()
    feed(dec, frame(1, b"\xe2\x82", fin=False) + frame(0, b"\x28"))
    assert failure(dec) == 1007


# -- limits ----------------------------------------------------------------------------


def test_declared_length_over_limit_fails_before_payload_arrives() -> None:
    """A frame header announcing more than max_message_size fails with 1009 at once."""
    dec = decoder(max_size=1000)
    assert feed(dec, b"\x82\x7f" + (10**12).to_bytes(8, "big")) == []
    assert failure(dec) == 1009


@pytest.mark.parametrize("opcode", [1, 2])
def test_whole_frame_one_byte_over_limit_fails_with_1009(opcode: int) -> None:
    """A complete text or binary frame one byte over max_message_size fails with 1009."""
    dec = decoder(max_size=300)
    assert feed(dec, text("ok") + frame(opcode, b"x" * 301)) == ["ok"]
    assert failure(dec) == 1009


def test_message_exactly_at_limit_is_accepted() -> None:
    """A message of exactly max_message_size bytes is delivered."""
    assert feed(decoder(max_size=300), text("x" * 300)) == ["x" * 300]


def test_fragments_adding_up_over_limit_fail_with_1009() -> None:
    """Fragments that together exceed max_message_size fail with 1009."""
    dec = decoder(max_size=100)
    feed(dec, text("x" * 60, fin=False) + frame(0, b"x" * 60))
    assert failure(dec) == 1009


def test_too_many_fragments_fail_with_1009() -> None:
    """A message spread over more than max_fragments frames fails with 1009."""
    dec = decoder(max_fragments=3)
    data = text("a", fin=False) + frame(0, b"b", fin=False) + frame(0, b"c", fin=False)
    assert feed(dec, data) == []
    assert dec.outcome is None
    feed(dec, frame(0, b"d"))
    assert failure(dec) == 1009


# -- permessage-deflate -----------------------------------------------------------------


def test_compressed_messages_inflate_with_context_takeover() -> None:
    """RSV1 messages inflate; the shared context carries over between messages."""
    c = zlib.compressobj(wbits=-15)
    frames = b""
    for msg in ("hello hello", "hello again", "héllo"):
        body = c.compress(msg.encode()) + c.flush(zlib.Z_SYNC_FLUSH)
        frames += frame(1, body[:-4], rsv=4)
    assert feed(decoder(inflate=DeflateParams()), frames, 5) == [
        "hello hello",
        "hello again",
        "héllo",
    ]


def test_compressed_fragmented_binary_message_inflates() -> None:
    """A compressed message split over fragments (RSV1 on the first only) inflates."""
    body = deflate(b"\x00\x01" * 500)
    data = frame(2, body[:5], rsv=4, fin=False) + frame(0, body[5:])
    assert feed(decoder(inflate=DeflateParams()), data) == [b"\x00\x01" * 500]


def test_server_no_context_takeover_resets_between_messages() -> None:
    """With server_no_context_takeover each message inflates from a fresh state."""
    params = DeflateParams(server_no_context_takeover=True)
    data = frame(1, deflate(b"same"), rsv=4) + frame(1, deflate(b"same"), rsv=4)
    assert feed(decoder(inflate=params), data) == ["same", "same"]


def test_decompression_bomb_fails_with_1009() -> None:
    """A small frame inflating beyond max_message_size fails with 1009."""
    bomb = deflate(b"\x00" * 10_000_000)
    assert len(bomb) < 20_000
    dec = decoder(max_size=1_000_000, inflate=DeflateParams())
    feed(dec, frame(2, bomb, rsv=4))
    assert failure(dec) == 1009


def test_invalid_compressed_data_fails_with_1007() -> None:
    """Bytes that are not DEFLATE data fail with 1007."""
    dec = decoder(inflate=DeflateParams())
    feed(dec, frame(2, b"\xff\xff\xff\xff", rsv=4))
    assert failure(dec) == 1007


def test_rsv1_on_a_continuation_fails_even_with_deflate() -> None:
    """RSV1 belongs on a message's first frame only."""
    dec = decoder(inflate=DeflateParams())
    feed(dec, text("a", fin=False) + frame(0, b"b", rsv=4))
    assert failure(dec) == 1002


def test_compressed_invalid_utf8_fails_with_1007() -> None:
    """Inflated text that is not UTF-8 fails with 1007."""
    dec = decoder(inflate=DeflateParams())
    feed(dec, frame(1, deflate(b"ok\xff"), rsv=4))
    assert failure(dec) == 1007


# -- encoder ---------------------------------------------------------------------------


def unmask_client_frame(data: bytes) -> tuple[int, bytes]:
    """Parse one client frame: check the mask bit, return (first byte, payload)."""
    b0, b1 = data[0], data[1]
    assert b1 & 0x80, "client frames must be masked"
    n, pos = b1 & 0x7F, 2
    if n == 126:
        n, pos = int.from_bytes(data[2:4], "big"), 4
    elif n == 127:
        n, pos = int.from_bytes(data[2:10], "big"), 10
    key = data[pos : pos + 4]
    payload = data[pos + 4 :]
    assert len(payload) == n
    return b0, mask(payload, key)


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 125, 126, 65535, 65536, 100_003])
def test_encoder_masks_every_length(size: int) -> None:
    """Frames we send are masked with a fresh key and unmask to the payload."""
    payload = bytes(i % 251 for i in range(size))
    data = FrameEncoder().binary(payload)
    assert unmask_client_frame(data) == (0x82, payload)


def test_encoder_uses_the_key_source() -> None:
    """The 4-byte key comes from the injected source and XORs the payload."""
    data = FrameEncoder(mask_key=lambda n: b"\xff" * n).text("A")
    assert data == b"\x81\x81\xff\xff\xff\xff" + bytes((ord("A") ^ 0xFF,))


def test_encoder_control_frames_and_limits() -> None:
    """Ping/pong payloads over 125 bytes and unsendable close codes raise ValueError."""
    enc = FrameEncoder()
    assert unmask_client_frame(enc.ping(b"p" * 125)) == (0x89, b"p" * 125)
    assert unmask_client_frame(enc.pong(b"")) == (0x8A, b"")
    with pytest.raises(ValueError, match="125"):
        enc.ping(b"p" * 126)
    with pytest.raises(ValueError, match="125"):
        enc.pong(b"p" * 126)
    for code in (1005, 1006, 1015, 999, 5000):
        with pytest.raises(ValueError, match="may not be sent"):
            enc.close(code)


def test_encoder_close_reason_is_cut_at_a_character_boundary() -> None:
    """A long close reason is cut to 123 bytes without splitting a character."""
    b0, payload = unmask_client_frame(FrameEncoder().close(1001, "é" * 100))
    assert b0 == 0x88
    assert payload[:2] == (1001).to_bytes(2, "big")
    assert len(payload) == 124
    assert payload[2:].decode() == "é" * 61


def test_close_code_table() -> None:
    """Only 1000-1003, 1007-1014 and 3000-4999 are valid on the wire."""
    valid = [c for c in range(0, 6000) if is_valid_close_code(c)]
    assert valid == [*range(1000, 1004), *range(1007, 1015), *range(3000, 5000)]
