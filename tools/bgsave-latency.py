#!/usr/bin/env python3
"""bgsave-latency.py: GET latency seen by a client while the server runs a BGSAVE.

Open loop: GETs are sent at a fixed rate on one connection, whatever the replies do, and each
latency is measured from the request's *scheduled* send time to its reply. A server stall of
S ms therefore shows as about rate*S late requests (a closed-loop client would see only one).

    tools/bgsave-latency.py --port 21000 --keys 1000000 --rate 2000

Fills key:0..N-1 (32-byte values, pipelined MSET) unless the database already holds N keys,
probes for --before seconds, sends BGSAVE, probes until INFO says it ended, then --after more
seconds. Prints p50/p99/p99.9/max and the count over 2 ms for the window from BGSAVE to its
end, and for the quiet window before; with real Redis also INFO's latest_fork_usec.
Single-threaded (select loop), so the client's own jitter stays in the tens of microseconds.
"""

import argparse
import collections
import random
import select
import socket
import time


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Replies:
    """Incremental parser for the replies this tool gets: simple, error, integer, bulk."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        self.buf += data

    def next(self):
        buf = self.buf
        end = buf.find(b"\r\n")
        if end < 0:
            return None
        kind = buf[0:1]
        if kind == b"$":
            n = int(buf[1:end])
            if n < 0:
                del buf[: end + 2]
                return b""
            if len(buf) < end + 2 + n + 2:
                return None
            value = bytes(buf[end + 2 : end + 2 + n])
            del buf[: end + 2 + n + 2]
            return value
        line = bytes(buf[1:end])
        del buf[: end + 2]
        if kind == b"-":
            raise RuntimeError("server error: " + line.decode())
        return line


def command(sock, *args):
    sock.sendall(encode(*args))
    parser = Replies()
    while True:
        reply = parser.next()
        if reply is not None:
            return reply
        parser.feed(sock.recv(1 << 20))


def info_field(sock, section, name):
    text = command(sock, "INFO", section).decode()
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    return ""


def populate(sock, keys):
    value = b"x" * 32
    batch = 1000
    parser = Replies()
    sent = 0
    for start in range(0, keys, batch):
        args = ["MSET"]
        for i in range(start, min(keys, start + batch)):
            args += ["key:%d" % i, value]
        sock.sendall(encode(*args))
        sent += 1
        # Keep at most 64 batches in flight.
        while sent > 64:
            reply = parser.next()
            if reply is None:
                parser.feed(sock.recv(1 << 20))
            else:
                sent -= 1
    while sent:
        reply = parser.next()
        if reply is None:
            parser.feed(sock.recv(1 << 20))
        else:
            sent -= 1


def percentile(sorted_ms, p):
    if not sorted_ms:
        return float("nan")
    k = min(len(sorted_ms) - 1, int(round(p / 100.0 * (len(sorted_ms) - 1))))
    return sorted_ms[k]


def summary(name, lat_ms):
    s = sorted(lat_ms)
    over = sum(1 for x in s if x > 2.0)
    print(
        "%-8s n=%d p50=%.3f p99=%.3f p99.9=%.3f max=%.3f ms, over 2 ms: %d"
        % (name, len(s), percentile(s, 50), percentile(s, 99), percentile(s, 99.9),
           s[-1] if s else float("nan"), over)
    )


def probe(args, ctl):
    sock = socket.create_connection((args.host, args.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(False)
    ctl.setblocking(False)
    parser, ctl_parser = Replies(), Replies()
    interval = 1.0 / args.rate
    rng = random.Random(7)
    clock = time.perf_counter
    start = clock()
    next_send = start
    scheduled = collections.deque()  # scheduled send time of each request in flight, in order
    results = []  # (phase, latency ms)
    phase = "before"
    bgsave_at = start + args.before
    ctl_waiting = None  # what the control connection's pending reply is
    next_poll = None
    end_at = None
    bgsave_ended = None
    out = bytearray()
    while True:
        now = clock()
        if end_at is not None and now >= end_at and not scheduled:
            break
        if phase == "before" and now >= bgsave_at:
            phase = "during"
            ctl.sendall(encode("BGSAVE"))
            ctl_waiting = "bgsave"
            bgsave_sent = now
        if (phase == "during" and ctl_waiting is None and next_poll is not None
                and now >= next_poll):
            ctl.sendall(encode("INFO", "persistence"))
            ctl_waiting = "info"
        while end_at is None or next_send < end_at:
            if next_send > now:
                break
            out += encode("GET", "key:%d" % rng.randrange(args.keys))
            scheduled.append((next_send, phase))
            next_send += interval
        if out:
            try:
                n = sock.send(out)
                del out[:n]
            except BlockingIOError:
                pass
        timeout = max(0.0, next_send - clock()) if end_at is None or next_send < end_at else 0.01
        readable, _, _ = select.select([sock, ctl], [], [], timeout)
        if sock in readable:
            data = sock.recv(1 << 20)
            if not data:
                raise RuntimeError("server closed the connection")
            parser.feed(data)
            got = clock()
            while True:
                reply = parser.next()
                if reply is None:
                    break
                sent_at, sent_phase = scheduled.popleft()
                results.append((sent_phase, (got - sent_at) * 1000.0, sent_at))
        if ctl in readable:
            data = ctl.recv(1 << 20)
            ctl_parser.feed(data)
            reply = ctl_parser.next()
            if reply is not None:
                if ctl_waiting == "bgsave":
                    print("BGSAVE:", reply.decode())
                    next_poll = clock() + 0.02
                elif ctl_waiting == "info":
                    fields = dict(
                        line.split(":", 1) for line in reply.decode().splitlines() if ":" in line
                    )
                    if fields.get("rdb_bgsave_in_progress") == "0":
                        bgsave_ended = clock()
                        phase = "after"
                        end_at = bgsave_ended + args.after
                    else:
                        next_poll = clock() + 0.02
                ctl_waiting = None
    sock.close()
    ctl.setblocking(True)
    print("BGSAVE took %.3f s (from the client's view)" % (bgsave_ended - bgsave_sent))
    for name in ("before", "during", "after"):
        summary(name, [ms for p, ms, _ in results if p == name])
    if args.worst:
        worst = sorted(results, key=lambda r: -r[1])[: args.worst]
        print("worst (ms after BGSAVE was sent: latency ms):")
        print("  " + ", ".join("%.1f: %.2f" % ((at - bgsave_sent) * 1000.0, ms)
                               for _, ms, at in sorted(worst, key=lambda r: r[2])))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--rate", type=float, default=2000.0, help="GETs per second")
    ap.add_argument("--before", type=float, default=1.0, help="seconds probed before BGSAVE")
    ap.add_argument("--after", type=float, default=0.5, help="seconds probed after it ends")
    ap.add_argument("--worst", type=int, default=0, help="list the N slowest requests and when")
    args = ap.parse_args()
    ctl = socket.create_connection((args.host, args.port))
    size = int(command(ctl, "DBSIZE"))
    if size < args.keys:
        t = time.perf_counter()
        populate(ctl, args.keys)
        print("filled %d keys in %.1f s" % (args.keys, time.perf_counter() - t))
    while info_field(ctl, "persistence", "rdb_bgsave_in_progress") == "1":
        time.sleep(0.05)
    probe(args, ctl)
    fork = info_field(ctl, "stats", "latest_fork_usec")
    print("latest_fork_usec:", fork or "(not reported)")
    print("rdb_last_bgsave_status:", info_field(ctl, "persistence", "rdb_last_bgsave_status"))


if __name__ == "__main__":
    main()
