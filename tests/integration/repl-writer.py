#!/usr/bin/env python3
"""Numbered, checksummed 4 KiB records through NBD, across failovers.

  repl-writer.py write ADDR PORT ACKLOG STOPFILE
      Record N goes to slot N % slots (slots = export size / 4096), written
      with FUA; once the reply says it is done, N is appended to ACKLOG (one
      per line, flushed).  Any error (connection lost, refused, timed out):
      reconnect every 100 ms and write the same record again.  Runs until
      STOPFILE exists.
  repl-writer.py verify ADDR PORT ACKLOG
      Read the whole export; for every slot that an acknowledged record went
      to, the slot must hold a record with a valid checksum, of that slot,
      numbered at least the highest acknowledged one (a later write may have
      landed unacknowledged).  Prints "acked N slots N lost N"; exit 1 if a
      record was lost or corrupt.
"""
import hashlib
import os
import socket
import struct
import sys
import time

IHAVEOPT = 0x49484156454F5054
REQ_MAGIC = 0x25609513
REPLY_MAGIC = 0x67446698
OPT_GO = 7
REP_ACK, REP_INFO = 1, 3
CMD_READ, CMD_WRITE, CMD_DISC = 0, 1, 2
FLAG_FUA = 1
REC = 4096
HDR = struct.Struct(">4sQ")  # magic, record number
MAGIC = b"VGRC"


def recvn(s, n):
    buf = bytearray()
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise EOFError("closed")
        buf += d
    return bytes(buf)


def connect(addr, port, timeout):
    """Fixed newstyle handshake with GO; returns (socket, export size)."""
    s = socket.create_connection((addr, port), timeout=timeout)
    try:
        s.settimeout(timeout)
        magic, opt, _ = struct.unpack(">QQH", recvn(s, 18))
        if magic != 0x4E42444D41474943 or opt != IHAVEOPT:
            raise IOError("bad greeting")
        s.sendall(struct.pack(">I", 3))  # fixed newstyle, no zeroes
        s.sendall(struct.pack(">QII", IHAVEOPT, OPT_GO, 6) + struct.pack(">IH", 0, 0))
        size = None
        while True:
            _, _, rtype, rlen = struct.unpack(">QIII", recvn(s, 20))
            data = recvn(s, rlen) if rlen else b""
            if rtype == REP_ACK:
                break
            if rtype & 0x80000000:
                raise IOError("GO refused (%#x): %s" % (rtype, data[4:].decode(errors="replace")))
            if rtype == REP_INFO and len(data) >= 12 and struct.unpack(">H", data[:2])[0] == 0:
                size = struct.unpack(">Q", data[2:10])[0]
        if size is None:
            raise IOError("no export size")
        return s, size
    except Exception:
        s.close()
        raise


def request(s, cmd, flags, handle, offset, data=b"", length=None):
    length = len(data) if length is None else length
    s.sendall(struct.pack(">IHHQQI", REQ_MAGIC, flags, cmd, handle, offset, length) + data)
    magic, err, h = struct.unpack(">IIQ", recvn(s, 16))
    if magic != REPLY_MAGIC or h != handle:
        raise IOError("bad reply")
    if err:
        raise IOError("error %d" % err)
    return recvn(s, length) if cmd == CMD_READ else b""


def record(n):
    body = HDR.pack(MAGIC, n)
    body += hashlib.sha256(body).digest() * ((REC - 32 - len(body)) // 32)
    body += b"\0" * (REC - 32 - len(body))
    return body + hashlib.sha256(body).digest()


def check(buf):
    """The record number in a 4 KiB slot, or None if it is not a valid record."""
    body, digest = buf[:-32], buf[-32:]
    magic, n = HDR.unpack(body[:HDR.size])
    if magic != MAGIC or hashlib.sha256(body).digest() != digest:
        return None
    return n


def write(addr, port, acklog, stopfile):
    n, s, slots, handle = 1, None, 0, 0
    with open(acklog, "a") as log:
        while not os.path.exists(stopfile):
            try:
                if s is None:
                    s, size = connect(addr, port, 1.0)
                    slots = size // REC
                    print("%.3f connected, %d slots, at record %d" % (time.time(), slots, n),
                          flush=True)
                handle += 1
                request(s, CMD_WRITE, FLAG_FUA, handle, (n % slots) * REC, record(n))
                log.write("%d\n" % n)
                log.flush()
                n += 1
            except (OSError, EOFError) as e:
                if s is not None:
                    print("%.3f record %d: %s: reconnecting" % (time.time(), n, e), flush=True)
                    s.close()
                    s = None
                time.sleep(0.1)
        if s is not None:
            try:
                s.sendall(struct.pack(">IHHQQI", REQ_MAGIC, 0, CMD_DISC, 0, 0, 0))
            except OSError:
                pass
            s.close()
    print("wrote %d records" % (n - 1), flush=True)


def verify(addr, port, acklog):
    want = {}
    acked = 0
    s, size = connect(addr, port, 5.0)
    slots = size // REC
    with open(acklog) as f:
        for line in f:
            n = int(line)
            acked += 1
            want[n % slots] = max(want.get(n % slots, 0), n)
    lost = []
    chunk = 256  # slots per read (1 MiB)
    for first in range(0, slots, chunk):
        data = request(s, CMD_READ, 0, first + 1, first * REC, length=chunk * REC)
        for i in range(chunk):
            slot = first + i
            if slot not in want:
                continue
            got = check(data[i * REC:(i + 1) * REC])
            if got is None or got % slots != slot or got < want[slot]:
                lost.append((slot, want[slot], got))
    s.sendall(struct.pack(">IHHQQI", REQ_MAGIC, 0, CMD_DISC, 0, 0, 0))
    s.close()
    print("acked %d slots %d lost %d" % (acked, len(want), len(lost)))
    for slot, w, got in lost[:10]:
        print("  slot %d: acknowledged record %d, found %s" % (slot, w, got))
    return 1 if lost else 0


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "write":
        write(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
        return 0
    if len(sys.argv) == 5 and sys.argv[1] == "verify":
        return verify(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
