#!/usr/bin/env python3
"""Writes the binary seed inputs of the fuzz targets whose input is not text:

  corpus/event_record/   event records (src/core/event_record.hpp)
  corpus/ws_frame/       client byte streams (masked RFC 6455 frames) behind the 3-byte control
                         prefix described in ws_frame_fuzz.cpp
  corpus/log_recovery/   segment (and index) files in the framing described in log_recovery_fuzz.cpp

Every seed is built here field by field from the formats as documented (src/storage/format.hpp,
RFC 6455 section 5.2), including the damaged ones, so the corpus can be re-created and reviewed. The
output is deterministic; run it from anywhere:

  python3 tests/fuzz/make_binary_seeds.py
"""

import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as src/base/crc32c.hpp -----------------
_TABLE = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    _TABLE.append(c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


# --- event records --------------------------------------------------------------------------------
def event_record(event_id, event_type, key, json):
    out = bytes([1])
    for field in (event_id, event_type, key):
        out += struct.pack("<H", len(field)) + field
    return out + json


EVENT = (b'{"specversion":"1.0","id":"o-1","source":"/shop","type":"shop.orderPlaced.v1",'
         b'"data":{"total":12.5}}')


def seeds_event_record():
    write("event_record", "typical", event_record(b"o-1", b"shop.orderPlaced.v1", b"", EVENT))
    write("event_record", "with_key",
          event_record(b"o-2", b"shop.orderPaid.v1", b"idem-2f1c", b'{"specversion":"1.0"}'))
    write("event_record", "empty_fields", event_record(b"", b"", b"", b"{}"))
    write("event_record", "truncated", event_record(b"o-3", b"t", b"", b"")[:-1])
    write("event_record", "no_json", event_record(b"o-4", b"t", b"", b""))
    write("event_record", "version2", b"\x02" + event_record(b"a", b"b", b"", b"{}")[1:])
    write("event_record", "long_length", b"\x01\xff\xff" + b"x" * 16)


# --- WebSocket frames -----------------------------------------------------------------------------
def client_frame(opcode, payload, fin=True, key=b"\x37\xfa\x21\x3d", rsv=0, masked=True,
                 length_form=None):
    b0 = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    form = length_form or ("7" if n < 126 else "16" if n <= 0xFFFF else "64")
    mask_bit = 0x80 if masked else 0
    if form == "7":
        head = bytes([b0, mask_bit | n])
    elif form == "16":
        head = bytes([b0, mask_bit | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, mask_bit | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + body


def ws(name, stream, frame_limit=0xFF, message_limit=0xFF, chunking=0):
    write("ws_frame", name, bytes([frame_limit, message_limit, chunking]) + stream)


TEXT, BINARY, CONT, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


def seeds_ws_frame():
    hello = b'{"op":"subscribe","id":"s1","topic":"orders"}'
    ws("text", client_frame(TEXT, hello))
    ws("text_chunked", client_frame(TEXT, hello) + client_frame(PING, b"hi"), chunking=0x43)
    ws("rfc_hello", client_frame(TEXT, b"Hello"))  # RFC 6455 section 5.7, masked example
    ws("fragmented", client_frame(TEXT, "caf\u00e9 ".encode()[:4], fin=False)
       + client_frame(PING, b"") + client_frame(CONT, "caf\u00e9 ".encode()[4:], fin=False)
       + client_frame(CONT, b"done"), chunking=0x05)
    ws("binary_16bit", client_frame(BINARY, bytes(range(256)) * 2), chunking=0x3F)
    ws("length_64bit", client_frame(BINARY, b"x" * 130, length_form="64"))
    ws("close_reason", client_frame(CLOSE, struct.pack(">H", 1000) + b"bye"))
    ws("close_empty", client_frame(CLOSE, b""))
    ws("close_bad_code", client_frame(CLOSE, struct.pack(">H", 1005)))
    ws("pong", client_frame(PONG, b"\x00\x01") + client_frame(TEXT, b"{}"))
    ws("unmasked", client_frame(TEXT, b"nope", masked=False))
    ws("reserved_bits", client_frame(TEXT, b"x", rsv=0x40))
    ws("bad_utf8", client_frame(TEXT, b"\xc0\xa0"))
    ws("split_utf8", client_frame(TEXT, b"\xe2\x82", fin=False) + client_frame(CONT, b"\xac"))
    ws("too_big", client_frame(BINARY, b"y" * 200), frame_limit=16, message_limit=16)
    ws("message_too_big", client_frame(TEXT, b"a" * 100, fin=False)
       + client_frame(CONT, b"b" * 100), frame_limit=16, message_limit=10)
    ws("control_fragmented", client_frame(PING, b"p", fin=False))
    ws("continuation_first", client_frame(CONT, b"orphan"))

    # permessage-deflate (RFC 7692): bit 7 of the delivery byte negotiates it; an odd frame-limit byte
    # adds client_no_context_takeover. Messages are raw deflate, sync-flushed, 00 00 ff ff removed.
    DEFLATE = 0x80
    z = deflater()
    publish = b'{"op":"publish","topic":"orders","events":[' + b'{"id":"1","n":2},' * 40 + b'{}]}'
    ws("deflate_text", client_frame(TEXT, compress(z, publish), rsv=RSV1), frame_limit=0xFE, chunking=DEFLATE)
    z = deflater()
    part = compress(z, "caf\u00e9 caf\u00e9 caf\u00e9".encode())
    ws("deflate_fragmented", client_frame(TEXT, part[:3], fin=False, rsv=RSV1) + client_frame(PING, b"")
       + client_frame(CONT, part[3:], fin=False) + client_frame(CONT, b""), chunking=DEFLATE | 0x07)
    z = deflater()
    first, second = compress(z, publish), compress(z, publish)  # the second refers back into the first
    ws("deflate_takeover", client_frame(TEXT, first, rsv=RSV1) + client_frame(TEXT, second, rsv=RSV1),
       frame_limit=0xFE, chunking=DEFLATE)
    ws("deflate_no_takeover", client_frame(TEXT, first, rsv=RSV1) + client_frame(TEXT, second, rsv=RSV1),
       frame_limit=0xFF, chunking=DEFLATE)
    ws("deflate_bomb", client_frame(BINARY, compress(deflater(), b"a" * 100000), rsv=RSV1),
       frame_limit=0xFE, message_limit=0x10, chunking=DEFLATE)
    ws("deflate_rsv1_continuation", client_frame(TEXT, b"\x00", fin=False, rsv=RSV1)
       + client_frame(CONT, b"", rsv=RSV1), chunking=DEFLATE)
    ws("deflate_rsv1_ping", client_frame(PING, b"", rsv=RSV1), chunking=DEFLATE)
    ws("deflate_corrupt", client_frame(TEXT, b"\xff\xff\xff", rsv=RSV1), chunking=DEFLATE)
    ws("deflate_final_block", client_frame(TEXT, zlib.compress(b"{}", wbits=-15), rsv=RSV1), chunking=DEFLATE)


RSV1 = 0x40


def deflater():
    return zlib.compressobj(6, zlib.DEFLATED, -15)


def compress(z, data):
    out = z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


# --- log segments ---------------------------------------------------------------------------------
def batch(base_offset, payloads, timestamp_ms=1_700_000_000_000):
    records = b"".join(struct.pack("<I", len(p)) + p for p in payloads)
    length = 36 + len(records)
    after_crc = (struct.pack("<I", length) + bytes([1, 0]) + b"\x00\x00"
                 + struct.pack("<QIq", base_offset, len(payloads), timestamp_ms) + records)
    return b"HLB1" + struct.pack("<I", crc32c(after_crc)) + after_crc


def index(entries):
    return b"".join(struct.pack("<II", rel, pos) for rel, pos in entries)


def log_input(segment, flags=0, index_bytes=None, first=None, second_base=0):
    if index_bytes is not None:
        flags |= 0x01
    if first is not None:
        flags |= 0x02
    out = bytes([flags])
    if first is not None:
        out += struct.pack("<HB", len(first), second_base)
    if index_bytes is not None:
        out += struct.pack("<H", len(index_bytes)) + index_bytes
    return out + (first or b"") + segment


def records(base, n):
    return [event_record(b"e-%d" % i, b"t", b"", b'{"specversion":"1.0","id":"e-%d"}' % i)
            for i in range(base, base + n)]


def seeds_log_recovery():
    b0 = batch(0, records(0, 2))
    b1 = batch(2, records(2, 1))
    b2 = batch(3, records(3, 3), timestamp_ms=1_700_000_000_500)
    seg = b0 + b1 + b2
    write("log_recovery", "empty", log_input(b""))
    write("log_recovery", "one_batch", log_input(b0))
    write("log_recovery", "three_batches", log_input(seg))
    write("log_recovery", "torn_tail", log_input(seg[:-7]))
    write("log_recovery", "torn_header", log_input(seg + b"HLB1\x00\x00"))
    flipped = bytearray(seg)
    flipped[len(b0) + 40] ^= 0x20  # a payload byte of the second batch: CRC mismatch
    write("log_recovery", "crc_mismatch", log_input(bytes(flipped)))
    write("log_recovery", "junk_tail", log_input(seg + b"\x00" * 50))
    write("log_recovery", "offset_gap", log_input(b0 + batch(5, records(5, 1))))
    write("log_recovery", "no_epoch", log_input(seg, flags=0x08))
    # Small index interval: recovery rebuilds an index entry for every batch.
    write("log_recovery", "index_rebuilt", log_input(seg, flags=0x04))
    good_index = index([(2, len(b0)), (3, len(b0) + len(b1))])
    write("log_recovery", "index_good", log_input(seg, flags=0x04, index_bytes=good_index))
    write("log_recovery", "index_stale",
          log_input(seg[:len(b0)], flags=0x04, index_bytes=good_index))
    write("log_recovery", "index_wrong",
          log_input(seg, index_bytes=index([(3, len(b0))]) + b"\x01\x02"))
    # Two segments: a closed one with offsets 0..5 and the active one from 6.
    write("log_recovery", "two_segments",
          log_input(batch(6, records(6, 2)), first=seg, second_base=6))
    write("log_recovery", "two_segments_gap",
          log_input(batch(9, records(9, 1)), first=seg, second_base=9))
    write("log_recovery", "closed_damaged",
          log_input(batch(6, records(6, 1)), first=seg[:-3], second_base=6))
    # 0x20: the harness sets the CRCs, so these reach the structural checks behind the checksum.
    bad_count = bytearray(b1)
    bad_count[24] = 2  # record_count 2 in a batch that holds one record
    write("log_recovery", "crc_fixed_bad_count", log_input(b0 + bytes(bad_count) + b2, flags=0x20))
    bad_len = bytearray(b2)
    bad_len[36] += 1  # the first record's length runs one byte into the next
    write("log_recovery", "crc_fixed_bad_record", log_input(b0 + b1 + bytes(bad_len), flags=0x24))
    write("log_recovery", "crc_fixed_two",
          log_input(b1 + b2, flags=0x20 | 0x04, first=b0, second_base=2))
    write("log_recovery", "closed_index",
          log_input(batch(6, records(6, 1)), flags=0x14, index_bytes=good_index, first=seg,
                    second_base=6))


if __name__ == "__main__":
    seeds_event_record()
    seeds_ws_frame()
    seeds_log_recovery()
