#!/usr/bin/env python3
"""maxmemory-zipf.py: eviction under a write flood and a cache's hit rate, ours beside real Redis.

Starts both servers (free loopback ports, own temp dirs) with `maxmemory` and a policy, then:

1. Flood: writes --flood-mb of distinct 1 KB values (pipelined SETs) and samples each server's
   RSS (/proc/PID/status VmRSS) and INFO used_memory while it does. Reports the peak RSS as a
   multiple of maxmemory.
2. Zipf cache: after a FLUSHALL, a cache-aside workload over --keys keys whose popularity
   follows a Zipf law (exponent --zipf-s): GET; on a miss, SET the 1 KB value. The first
   --warmup operations fill the cache; the hit rate is counted over the next --ops.
   Both servers see exactly the same sequence (one seeded generator).

    tools/maxmemory-zipf.py target/release/redis-server [/usr/bin/redis-server]

Prints one line per server and a last line `maxmemory-zipf: rss ratio=X hit ratio=Y`
(ours over real Redis; RSS peaks relative to maxmemory, hit rates relative).
"""

import argparse
import bisect
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    """A blocking connection that sends pipelines and reads their replies."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = bytearray()

    def _line(self):
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buf[:end])
                del self.buf[: end + 2]
                return line
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk

    def _reply(self):
        line = self._line()
        kind = line[:1]
        if kind == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.sock.recv(1 << 20)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                self.buf += chunk
            value = bytes(self.buf[:n])
            del self.buf[: n + 2]
            return value
        if kind == b"-":
            raise RuntimeError(line.decode())
        if kind == b"*":
            return [self._reply() for _ in range(int(line[1:]))]
        return line[1:]

    def pipeline(self, commands):
        self.sock.sendall(b"".join(encode(*c) for c in commands))
        return [self._reply() for _ in commands]

    def cmd(self, *args):
        return self.pipeline([args])[0]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def info_field(conn, section, name):
    text = conn.cmd("INFO", section).decode()
    for line in text.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    return ""


class Server:
    def __init__(self, binary, maxmemory, policy):
        self.dir = tempfile.mkdtemp(prefix="mmz-")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--maxmemory", str(maxmemory),
             "--maxmemory-policy", policy],
            cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            try:
                self.conn = Conn(self.port)
                self.conn.cmd("PING")
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def flood(server, flood_mb, maxmemory):
    value = b"v" * 1024
    keys = flood_mb * 1024
    batch = 1000
    peak_rss = peak_used = 0
    for start in range(0, keys, batch):
        server.conn.pipeline([("SET", b"flood:%d" % i, value)
                              for i in range(start, min(keys, start + batch))])
        if (start // batch) % 20 == 0:
            peak_rss = max(peak_rss, rss_bytes(server.proc.pid))
            peak_used = max(peak_used, int(info_field(server.conn, "memory", "used_memory")))
    peak_rss = max(peak_rss, rss_bytes(server.proc.pid))
    return peak_rss / maxmemory, peak_used / maxmemory


def zipf_sampler(keys, s, seed):
    weights = [1.0 / (rank ** s) for rank in range(1, keys + 1)]
    total = sum(weights)
    cdf, acc = [], 0.0
    for w in weights:
        acc += w / total
        cdf.append(acc)
    rng = random.Random(seed)
    # Ranks are shuffled over key names so popularity does not follow key order.
    names = list(range(keys))
    rng.shuffle(names)

    def sample():
        return names[min(bisect.bisect_left(cdf, rng.random()), keys - 1)]
    return sample


def zipf_hit_rate(server, args):
    server.conn.cmd("FLUSHALL")
    server.conn.cmd("CONFIG", "RESETSTAT")
    sample = zipf_sampler(args.keys, args.zipf_s, args.seed)
    value = b"z" * 1024
    hits = counted = 0
    batch = 200
    total = args.warmup + args.ops
    done = 0
    while done < total:
        n = min(batch, total - done)
        keys = [b"zipf:%d" % sample() for _ in range(n)]
        replies = server.conn.pipeline([("GET", k) for k in keys])
        misses = [k for k, r in zip(keys, replies) if r is None]
        if misses:
            server.conn.pipeline([("SET", k, value) for k in misses])
        for i, r in enumerate(replies):
            if done + i >= args.warmup:
                counted += 1
                hits += r is not None
        done += n
    return hits / counted


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ours")
    parser.add_argument("real", nargs="?", default="/usr/bin/redis-server")
    parser.add_argument("--maxmemory-mb", type=int, default=100)
    parser.add_argument("--policy", default="allkeys-lru")
    parser.add_argument("--flood-mb", type=int, default=1024)
    parser.add_argument("--keys", type=int, default=500_000)
    parser.add_argument("--zipf-s", type=float, default=0.99)
    parser.add_argument("--warmup", type=int, default=300_000)
    parser.add_argument("--ops", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    maxmemory = args.maxmemory_mb << 20
    results = {}
    for label, binary in (("ours", os.path.abspath(args.ours)), ("real", args.real)):
        server = Server(binary, maxmemory, args.policy)
        try:
            rss, used = flood(server, args.flood_mb, maxmemory)
            hit = zipf_hit_rate(server, args)
        finally:
            server.stop()
        results[label] = (rss, used, hit)
        print(f"{label}: flood {args.flood_mb} MB into maxmemory {args.maxmemory_mb} MB "
              f"({args.policy}): peak RSS {rss:.2f}x maxmemory, peak used_memory "
              f"{used:.2f}x; zipf s={args.zipf_s} over {args.keys} keys: hit rate {hit:.4f}",
              flush=True)
    ours, real = results["ours"], results["real"]
    print(f"maxmemory-zipf: rss ratio={ours[0] / real[0]:.3f} hit ratio={ours[2] / real[2]:.3f}")


if __name__ == "__main__":
    main()
