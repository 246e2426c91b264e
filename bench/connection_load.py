#!/usr/bin/env python3
"""Probes of a running server while clients try to take it down (loopback).

  connection_load.py --port P [--probe-port Q] [--pid PID] [--idle 2000]
                     [--idle-addresses 1]
                     [--slowloris 200]
                     [--large 500] [--large-target PATH] [--seconds 20]
                     [--token T] [--out FILE]

Three phases, each probing /health, /livez and /readyz from 127.0.0.1 every
100 ms over a new connection (as the kubelet does) and timing each answer:

  quiet      nothing else;
  flood      --idle connections held open without a byte sent, spread over
             --idle-addresses source addresses from 127.0.0.2 on (one: a
             single client crossing its own limit; 34 or more: many clients
             crossing the total limit too), plus --slowloris connections
             from 127.0.1.x (60 per address) that send a request head one
             byte a second and never finish it;
  large      --large clients at once asking --large-target (by default a
             page of 1000 full records) from 127.0.2.x, reading every
             answer whole, again and again until the phase ends.

Reports per phase the probes sent, those not answered 200 (and how they
failed), latency p50/p99/max, and with --pid the server's largest resident
set (VmHWM is per process lifetime, so VmRSS is sampled every 100 ms).
Standard library only; needs RLIMIT_NOFILE above --idle + --slowloris +
--large (raised to the hard limit here; the server needs as many).
"""
import argparse
import asyncio
import json
import multiprocessing
import resource
import sys
import time

PROBES = ["/health", "/livez", "/readyz"]


def percentile(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))
    return xs[k]


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


async def read_answer(reader):
    """Reads one HTTP/1.1 answer; returns (status, body bytes)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    body = await reader.readexactly(length) if length else b""
    return status, len(body)


async def probe(host, port, path, timeout):
    """One probe over a new connection: (path, status or error, seconds)."""
    start = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, local_addr=("127.0.0.1", 0)),
            timeout)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: kubelet\r\n"
                     "Connection: close\r\n\r\n".encode())
        status, _ = await asyncio.wait_for(read_answer(reader), timeout)
        writer.close()
        return path, status, time.monotonic() - start
    except Exception as e:  # every failure is a result here
        return path, type(e).__name__, time.monotonic() - start


def prober_process(host, port, timeout, stop, out):
    """Probes every 100 ms until `stop` (a multiprocessing Event) is set,
    then sends the results through `out`. A process of its own: in the
    load's event loop, the time a probe waited behind hundreds of readers
    would count as the server's."""
    async def run():
        results, i = [], 0
        while not stop.is_set():
            path = PROBES[i % len(PROBES)]
            i += 1
            results.append(await probe(host, port, path, timeout))
            await asyncio.sleep(0.1)
        return results
    out.send(asyncio.run(run()))
    out.close()


async def rss_sampler(pid, stop, samples):
    while not stop.is_set():
        kib = rss_kib(pid)
        if kib is not None:
            samples.append(kib)
        try:
            await asyncio.wait_for(stop.wait(), 0.1)
        except asyncio.TimeoutError:
            pass


async def outcome(reader, stop):
    """Waits for the server to answer or close, or for the phase to end."""
    waiter = asyncio.ensure_future(reader.read(256))
    ender = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({waiter, ender},
                                 return_when=asyncio.FIRST_COMPLETED)
    ender.cancel()
    if waiter not in done:
        waiter.cancel()
        return "held_to_end"
    try:
        data = waiter.result()
    except (ConnectionError, OSError):
        return "reset"
    if not data:
        return "closed"
    return "answered_" + data.split(b" ", 2)[1].decode("latin-1")


def count(stats, key):
    stats[key] = stats.get(key, 0) + 1


async def connect(host, port, src, stats):
    """A connection from `src`, counted; None when it cannot be opened."""
    try:
        pair = await asyncio.open_connection(host, port, local_addr=(src, 0))
    except Exception as e:
        count(stats, "connect_failed_" + type(e).__name__)
        return None
    count(stats, "opened")
    return pair


async def hold_idle(host, port, src, stop, stats):
    pair = await connect(host, port, src, stats)
    if pair is None:
        return
    reader, writer = pair
    try:
        count(stats, await outcome(reader, stop))
    finally:
        writer.close()


async def slowloris(host, port, src, stop, stats):
    pair = await connect(host, port, src, stats)
    if pair is None:
        return
    reader, writer = pair
    head = b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nX-Slow: "
    result = asyncio.ensure_future(outcome(reader, stop))
    sent = 0
    try:
        while not result.done():
            writer.write(head[sent:sent + 1] if sent < len(head) else b"a")
            sent += 1
            await writer.drain()
            await asyncio.wait({result}, timeout=1.0)
    except (ConnectionError, OSError):
        pass
    finally:
        count(stats, await result)
        stats["max_bytes_sent"] = max(stats.get("max_bytes_sent", 0), sent)
        writer.close()


async def large_client(host, port, src, target, headers, stop, stats):
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection(
                host, port, local_addr=(src, 0))
            writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\n{headers}"
                         "Connection: close\r\n\r\n".encode())
            status, n = await read_answer(reader)
            writer.close()
            count(stats, f"status_{status}")
            stats["bytes"] = stats.get("bytes", 0) + n
        except Exception as e:
            count(stats, "error_" + type(e).__name__)
            await asyncio.sleep(0.1)


def summarize(name, probes, rss, extra):
    lat = [s * 1000 for _, st, s in probes]
    bad = [(p, st) for p, st, _ in probes if st != 200]
    out = {
        "phase": name,
        "probes": len(probes),
        "not_200": len(bad),
        "failures": sorted({f"{p} {st}" for p, st in bad}),
        "p50_ms": round(percentile(lat, 50), 2) if lat else None,
        "p99_ms": round(percentile(lat, 99), 2) if lat else None,
        "max_ms": round(max(lat), 2) if lat else None,
        "within_100ms": sum(1 for x in lat if x <= 100),
        "rss_max_mib": round(max(rss) / 1024, 1) if rss else None,
    }
    out.update(extra)
    return out


async def phase(name, args, load):
    stop = asyncio.Event()
    probes, rss, stats = [], [], {}
    tasks = [asyncio.ensure_future(t) for t in load(stop, stats)]
    # Let the load build up before the first probe.
    await asyncio.sleep(2 if tasks else 0)
    probe_stop = multiprocessing.Event()
    receive, send = multiprocessing.Pipe(duplex=False)
    probing = multiprocessing.Process(
        target=prober_process,
        args=("127.0.0.1", args.probe_port or args.port, args.probe_timeout,
              probe_stop, send))
    probing.start()
    side = []
    if args.pid:
        side.append(asyncio.ensure_future(rss_sampler(args.pid, stop, rss)))
    await asyncio.sleep(args.seconds)
    probe_stop.set()
    probes.extend(await asyncio.get_running_loop().run_in_executor(
        None, receive.recv))
    probing.join()
    stop.set()
    await asyncio.gather(*side, *tasks, return_exceptions=True)
    result = summarize(name, probes, rss, {"load": stats})
    print(json.dumps(result), flush=True)
    return result


async def main(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    need = args.idle + args.slowloris + args.large + 64
    if hard < need:
        sys.exit(f"RLIMIT_NOFILE {hard} is below the {need} descriptors needed")
    headers = f"Authorization: Bearer {args.token}\r\n" if args.token else ""
    host, port = "127.0.0.1", args.port
    results = [await phase("quiet", args, lambda stop, stats: [])]

    def flood(stop, stats):
        idle = stats.setdefault("idle", {})
        slow = stats.setdefault("slowloris", {})
        per_address = -(-args.idle // max(1, args.idle_addresses))
        for i in range(args.idle):
            yield hold_idle(host, port, f"127.0.0.{2 + i // per_address}",
                            stop, idle)
        for i in range(args.slowloris):
            yield slowloris(host, port, f"127.0.1.{1 + i // 60}", stop, slow)
    results.append(await phase("flood", args, flood))

    def large(stop, stats):
        for i in range(args.large):
            yield large_client(host, port, f"127.0.2.{1 + i // 60}",
                               args.large_target, headers, stop, stats)
    results.append(await phase("large", args, large))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"args": vars(args), "phases": results}, f, indent=2)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, default=0)
    ap.add_argument("--probe-port", type=int, default=0,
                    help="probe this port (the server's probePort) instead of --port")
    ap.add_argument("--idle", type=int, default=2000)
    ap.add_argument("--idle-addresses", type=int, default=1)
    ap.add_argument("--slowloris", type=int, default=200)
    ap.add_argument("--large", type=int, default=500)
    ap.add_argument("--large-target", default="/api/v1/events?limit=1000")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--probe-timeout", type=float, default=10)
    ap.add_argument("--token", default="")
    ap.add_argument("--out", default="")
    asyncio.run(main(ap.parse_args()))
