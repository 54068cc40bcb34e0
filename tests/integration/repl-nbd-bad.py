#!/usr/bin/env python3
"""Send bad NBD requests to vigil-repld; exit 0 when each got an error reply
or a closed connection.  Usage: repl-nbd-bad.py SOCKET EXPORT_SIZE"""
import socket
import struct
import sys

IHAVEOPT = 0x49484156454F5054
REQ_MAGIC = 0x25609513
REPLY_MAGIC = 0x67446698
OPT_GO = 7
MAX_IO = 32 << 20


def recvn(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise EOFError("closed")
        buf += d
    return buf


def connect(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    magic, opt, hflags = struct.unpack(">QQH", recvn(s, 18))
    assert magic == 0x4E42444D41474943 and opt == IHAVEOPT, "bad server greeting"
    s.sendall(struct.pack(">I", 3))  # fixed newstyle, no zeroes
    return s


def go(s):
    data = struct.pack(">I", 0) + struct.pack(">H", 0)
    s.sendall(struct.pack(">QII", IHAVEOPT, OPT_GO, len(data)) + data)
    while True:
        _, _, rtype, rlen = struct.unpack(">QIII", recvn(s, 20))
        recvn(s, rlen)
        if rtype == 1:
            return
        assert rtype == 3, "GO refused: %x" % rtype


def request(s, typ, off, length, payload=b"", flags=0, cookie=1):
    s.sendall(struct.pack(">IHHQQI", REQ_MAGIC, flags, typ, cookie, off, length) + payload)


def reply(s):
    magic, err, cookie = struct.unpack(">IIQ", recvn(s, 16))
    assert magic == REPLY_MAGIC
    return err


def closed(s):
    try:
        d = s.recv(1)
        return d == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def main():
    path, size = sys.argv[1], int(sys.argv[2])
    checks = []
    s = connect(path)
    go(s)
    request(s, 0, size - 512, 4096)                   # READ past the end
    checks.append(("read past end -> error", reply(s) != 0))
    request(s, 0, 2 ** 63, 512)                        # READ at an absurd offset
    checks.append(("read at 2^63 -> error", reply(s) != 0))
    request(s, 1, size, 512, b"\xee" * 512)            # WRITE past the end
    checks.append(("write past end -> error", reply(s) != 0))
    request(s, 1, 0, 512, b"\xee" * 512, flags=0x80)   # unknown flag
    checks.append(("write with unknown flag -> error", reply(s) != 0))
    request(s, 99, 0, 0)                               # unknown command
    checks.append(("unknown command -> error", reply(s) != 0))
    request(s, 1, 0, MAX_IO + 1)                       # WRITE larger than the maximum
    checks.append(("oversized write -> closed", closed(s)))
    s.close()
    s = connect(path)
    go(s)
    s.sendall(b"garbage!" * 8)                         # not a request
    checks.append(("garbage -> closed", closed(s)))
    s.close()
    s = connect(path)
    s.sendall(struct.pack(">QII", IHAVEOPT, OPT_GO, 0xFFFFFFF0))  # absurd option length
    checks.append(("huge option -> closed", closed(s)))
    s.close()
    ok = True
    for name, good in checks:
        print(("ok   " if good else "FAIL ") + name)
        ok = ok and good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
