# SPDX-License-Identifier: GPL-2.0
"""A hand-made collector peer for the tests: builds Frames with Google's protobuf runtime (the event_pb2 module
protoc generates from proto/cgpulse/v1/event.proto) and speaks the collector protocol over a socket, so a test can
send what no agent would (forged instances, claims of seqs it does not carry) and read the Acks that come back."""
import socket
import time

from google.protobuf.internal.decoder import _DecodeVarint32


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def frame(msg_bytes):
    return varint(len(msg_bytes)) + msg_bytes


class Peer:
    def __init__(self, pb, port, host="127.0.0.1", sock=None, timeout=10):
        self.pb = pb
        self.s = sock or socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def event(self, node, instance, seq):
        return self.pb.Event(node=node, instance_id=instance, seq=seq, ts_ns=int(time.time() * 1e9),
                             sample=self.pb.Sample(cgroup_id=1, path="/forged"))

    def batch(self, instance, events=(), base_seq=0):
        f = self.pb.Frame(batch=self.pb.Batch(instance_id=instance, events=list(events), base_seq=base_seq))
        self.send(frame(f.SerializeToString()))

    def hello(self, token):
        self.send(frame(self.pb.Frame(hello=self.pb.Hello(token=token)).SerializeToString()))

    def send(self, data):
        try:
            self.s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def acks(self, until_closed=False, want=0, timeout=10):
        """The Acks read until want of them came, or the collector closed the connection (until_closed)."""
        out, end = [], time.time() + timeout
        self.s.settimeout(0.2)
        while time.time() < end:
            while True:
                if not self.buf:
                    break
                n, pos = _DecodeVarint32(self.buf, 0)
                if pos + n > len(self.buf):
                    break
                out.append(self.pb.Frame.FromString(self.buf[pos:pos + n]).ack)
                self.buf = self.buf[pos + n:]
            if not until_closed and len(out) >= want:
                return out, False
            try:
                d = self.s.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return out, True
            if not d:
                return out, True
            self.buf += d
        return out, False

    def close(self):
        self.s.close()
