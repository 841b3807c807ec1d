"""Property tests: the frame decoder under arbitrary and adversarial input.

Whatever bytes arrive, in whatever pieces, the decoder never raises: it
returns valid items and ends, if it ends, with its own typed outcome carrying
the right close code.
"""

from __future__ import annotations

import itertools
import struct
import zlib
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trio_venues._fastws._deflate import DeflateParams, Inflater
from trio_venues._fastws._frames import (
    CloseReceived,
    FrameDecoder,
    ProtocolFailure,
    mask,
)
from trio_venues._transport import Ping, Pong

Item = str | bytes | Ping | Pong

MAX_SIZE = 4096
MAX_FRAGMENTS = 8
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def frame(
    opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0, masked: bool = False
) -> bytes:
    """A server frame built exactly as asked (valid or not)."""
    n = len(payload)
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    mbit = 0x80 if masked else 0
    if n < 126:
        header = bytes((b0, mbit | n))
    elif n < 0x10000:
        header = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        header = struct.pack("!BBQ", b0, mbit | 127, n)
    if masked:
        return header + b"\x0a\x0b\x0c\x0d" + mask(payload, b"\x0a\x0b\x0c\x0d")
    return header + payload


def decoder(deflate: bool) -> FrameDecoder[Ping | Pong]:
    """A small-limit decoder, with or without permessage-deflate."""
    return FrameDecoder(
        ping=Ping,
        pong=Pong,
        max_message_size=MAX_SIZE,
        max_fragments=MAX_FRAGMENTS,
        inflater=Inflater(DeflateParams()) if deflate else None,
    )


def feed_split(dec: FrameDecoder[Ping | Pong], data: bytes, cuts: list[int]) -> list[Item]:
    """Feed ``data`` cut at the given offsets."""
    bounds = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    out: list[Item] = []
    for a, b in itertools.pairwise(bounds):
        out += dec.receive_data(data[a:b])
    return out


def check_items(items: list[Item]) -> None:
    """Every item is one of the four transport item types."""
    for item in items:
        assert type(item) in (str, bytes, Ping, Pong), item


cuts = st.lists(st.integers(min_value=0, max_value=1 << 16), max_size=12)


@SETTINGS
@given(data=st.binary(max_size=600), pieces=cuts, deflate=st.booleans())
def test_random_bytes_never_raise_and_split_does_not_matter(
    data: bytes, pieces: list[int], deflate: bool
) -> None:
    """Arbitrary bytes give typed outcomes only, and the same result however they are split."""
    whole = decoder(deflate)
    items = whole.receive_data(data)
    check_items(items)
    split = decoder(deflate)
    assert feed_split(split, data, pieces) == items
    for dec in (whole, split):
        outcome = dec.outcome
        assert outcome is None or isinstance(outcome, CloseReceived | ProtocolFailure)
        if isinstance(outcome, ProtocolFailure):
            assert outcome.close_code in (1002, 1007, 1009)
    a, b = whole.outcome, split.outcome
    assert type(a) is type(b)
    if isinstance(a, ProtocolFailure) and isinstance(b, ProtocolFailure):
        assert a.close_code == b.close_code
    else:
        assert a == b


# -- valid traffic -----------------------------------------------------------------------


@dataclass
class Msg:
    """One message of a generated stream and how it goes on the wire."""

    value: Item
    fragments: int
    compress: bool
    interleave: bytes | None  # a ping payload inserted between fragments


def message_strategy(deflate: bool) -> st.SearchStrategy[Msg]:
    """Text, binary, ping or pong, fragmented and compressed at random."""
    data = st.one_of(
        st.text(max_size=200),
        st.binary(max_size=300),
        st.binary(max_size=125).map(Ping),
        st.binary(max_size=125).map(Pong),
    )
    return st.builds(
        Msg,
        value=data,
        fragments=st.integers(min_value=1, max_value=MAX_FRAGMENTS),
        compress=st.booleans() if deflate else st.just(False),
        interleave=st.none() | st.binary(max_size=20),
    )


def encode(msg: Msg, compressor: zlib._Compress | None) -> bytes:
    """Put one generated message on the wire as the server would."""
    if isinstance(msg.value, Ping | Pong):
        return frame(9 if isinstance(msg.value, Ping) else 10, msg.value.payload)
    is_text = isinstance(msg.value, str)
    payload = msg.value.encode() if isinstance(msg.value, str) else msg.value
    rsv = 0
    if msg.compress:
        assert compressor is not None
        payload = (compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]
        rsv = 4
    k = msg.fragments
    size = -(-len(payload) // k) if payload else 0
    chunks = [payload[i * size : (i + 1) * size] for i in range(k)] if size else [b""] * k
    out = b""
    for i, chunk in enumerate(chunks):
        opcode = (1 if is_text else 2) if i == 0 else 0
        out += frame(opcode, chunk, fin=i == k - 1, rsv=rsv if i == 0 else 0)
        if msg.interleave is not None and i < k - 1:
            out += frame(9, msg.interleave)
    return out


def expected(msg: Msg) -> list[Item]:
    """The items the decoder must produce for one generated message."""
    if isinstance(msg.value, Ping | Pong):
        return [msg.value]
    pings: list[Item] = (
        [Ping(msg.interleave)] * (msg.fragments - 1) if msg.interleave is not None else []
    )
    return [*pings, msg.value]


@st.composite
def valid_stream(draw: st.DrawFn) -> tuple[bool, list[Msg]]:
    """A deflate flag and a list of messages."""
    deflate = draw(st.booleans())
    return deflate, draw(st.lists(message_strategy(deflate), max_size=12))


@SETTINGS
@given(stream=valid_stream(), pieces=cuts)
def test_valid_streams_decode_exactly_whatever_the_split(
    stream: tuple[bool, list[Msg]], pieces: list[int]
) -> None:
    """Valid messages (fragmented, compressed, with pings between fragments) decode exactly."""
    deflate, msgs = stream
    compressor = zlib.compressobj(wbits=-15) if deflate else None
    wire = b"".join(encode(m, compressor) for m in msgs) + frame(8, b"\x03\xe8done")
    dec = decoder(deflate)
    items = feed_split(dec, wire, pieces)
    assert items == [item for m in msgs for item in expected(m)]
    assert dec.outcome == CloseReceived(1000, "done")


# -- one violation after valid traffic --------------------------------------------------

RESERVED_OPCODES = [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]


def bad_frame_strategy() -> st.SearchStrategy[tuple[bytes, int]]:
    """A violating frame and the close code it must produce."""
    payload = st.binary(max_size=40)
    return st.one_of(
        st.tuples(st.integers(1, 7), st.sampled_from([1, 2]), payload).map(
            lambda t: (frame(t[1], t[2], rsv=t[0]), 1002)
        ),
        st.tuples(st.sampled_from(RESERVED_OPCODES), payload).map(
            lambda t: (frame(t[0], t[1]), 1002)
        ),
        st.tuples(st.sampled_from([1, 2, 9, 10]), payload).map(
            lambda t: (frame(t[0], t[1], masked=True), 1002)
        ),
        st.tuples(st.sampled_from([8, 9, 10]), st.integers(126, 400)).map(
            lambda t: (frame(t[0], b"\x03\xe8" + b"x" * (t[1] - 2)), 1002)
        ),
        st.sampled_from([8, 9, 10]).map(lambda op: (frame(op, b"", fin=False), 1002)),
        payload.map(lambda p: (frame(0, p), 1002)),
        st.tuples(
            st.text(max_size=20), st.sampled_from([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80"])
        ).map(lambda t: (frame(1, t[0].encode() + t[1]), 1007)),
        st.integers(MAX_SIZE + 1, MAX_SIZE * 4).map(lambda n: (frame(2, b"\x00" * n), 1009)),
        st.sampled_from([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]).map(
            lambda c: (frame(8, c.to_bytes(2, "big")), 1002)
        ),
        st.just((frame(8, b"\x03\xe8\xff"), 1007)),
        st.just((frame(8, b"\x03"), 1002)),
    )


@SETTINGS
@given(
    msgs=st.lists(message_strategy(False), max_size=6),
    bad=bad_frame_strategy(),
    trailing=st.binary(max_size=50),
    pieces=cuts,
)
def test_a_violation_after_valid_traffic_gives_its_close_code(
    msgs: list[Msg], bad: tuple[bytes, int], trailing: bytes, pieces: list[int]
) -> None:
    """Messages before a violation are delivered, then the violation's close code is reported."""
    bad_bytes, code = bad
    wire = b"".join(encode(m, None) for m in msgs) + bad_bytes + trailing
    dec = decoder(False)
    items = feed_split(dec, wire, pieces)
    assert items == [item for m in msgs for item in expected(m)]
    assert isinstance(dec.outcome, ProtocolFailure)
    assert dec.outcome.close_code == code


@SETTINGS
@given(
    stream=valid_stream(),
    flips=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 7)), min_size=1, max_size=4),
    pieces=cuts,
)
def test_bit_flips_in_valid_traffic_never_raise(
    stream: tuple[bool, list[Msg]], flips: list[tuple[int, int]], pieces: list[int]
) -> None:
    """Random bit flips (RSV, opcode, length, mask, UTF-8, deflate data) end in typed outcomes."""
    deflate, msgs = stream
    compressor = zlib.compressobj(wbits=-15) if deflate else None
    wire = bytearray(b"".join(encode(m, compressor) for m in msgs) + frame(2, b"end"))
    for offset, bit in flips:
        wire[offset % len(wire)] ^= 1 << bit
    dec = decoder(deflate)
    items = feed_split(dec, bytes(wire), pieces)
    check_items(items)
    outcome = dec.outcome
    if isinstance(outcome, ProtocolFailure):
        assert outcome.close_code in (1002, 1007, 1009)
    else:
        assert outcome is None or isinstance(outcome, CloseReceived)
