# SPDX-License-Identifier: GPL-2.0
"""protobuf's delimited form (varint length, message), as GET /v1/events and a collector's .pb file carry it,
read with Google's own varint decoder: the independent side of the tests' protobuf checks."""
from google.protobuf.internal.decoder import _DecodeVarint32


def messages(data, partial=False):
    """The messages in data. partial: the stream may end inside a message (cut by a client's timeout)."""
    out, pos = [], 0
    while pos < len(data):
        n, pos = _DecodeVarint32(data, pos)
        if pos + n > len(data):
            assert partial, "truncated message at byte %d" % pos
            break
        out.append(data[pos:pos + n])
        pos += n
    return out


def events(pb, data, partial=False):
    """The cgpulse.v1.Event messages in data, decoded by pb (the generated event_pb2 module)."""
    return [pb.Event.FromString(m) for m in messages(data, partial)]
