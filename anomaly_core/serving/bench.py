"""Serving benchmark: a real ``anomaly serve`` process on 127.0.0.1, this process as the load generator.

    python -m anomaly_core.serving.bench --store /tmp/bench-store [--rate 200 --duration 20] [--json]

Measures (DESIGN.md section 6 / issue 4):

1. single-window requests at a fixed rate (open loop: request i is due at t0 + i / rate): p50/p99/max
   latency, measured from when each request was due, so a stalled server cannot hide its queue;
2. batched requests (``--batch`` windows, JSON and .npy bodies, 1 and 2 concurrent clients): windows/s,
   against in-process ``LoadedModel.score`` on the same windows in the same run;
3. time from an alias move (``Registry.promote``) to the first response carrying the new version.

With an empty store it first trains two ``lstm_ae`` versions (``--epochs``, default 2: the scoring cost
of an LSTM-AE does not depend on how long it was trained) and points ``production`` at the first.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("anomaly.bench")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Conn:
    """One keep-alive HTTP/1.1 connection (stdlib: the generator must cost less than the server)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, path: str, body: bytes, content_type: str = "application/json") -> tuple[int, dict[str, str], bytes]:
        self.conn.request("POST", path, body=body, headers={"Content-Type": content_type})
        r = self.conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()

    def get(self, path: str) -> tuple[int, bytes]:
        self.conn.request("GET", path)
        r = self.conn.getresponse()
        return r.status, r.read()

    def close(self) -> None:
        self.conn.close()


def _percentiles(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {"p50_ms": round(float(np.percentile(a, 50)), 3), "p90_ms": round(float(np.percentile(a, 90)), 3),
            "p99_ms": round(float(np.percentile(a, 99)), 3), "max_ms": round(float(a.max()), 3)}


def fixed_rate(port: int, body: bytes, *, rate: float, duration: float, workers: int = 8) -> dict[str, Any]:
    """Open-loop load: ``rate`` requests/s for ``duration`` s over ``workers`` keep-alive connections."""
    total = int(rate * duration)
    t0 = time.perf_counter() + 0.2
    due_latency: list[float] = [0.0] * total
    service: list[float] = [0.0] * total
    errors: list[str] = []

    def work(k: int) -> None:
        conn = Conn(port)
        for i in range(k, total, workers):
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            status, _, _ = conn.post("/v1/score", body)
            done = time.perf_counter()
            if status != 200:
                errors.append(str(status))
            due_latency[i], service[i] = (done - due) * 1e3, (done - sent) * 1e3
        conn.close()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return {"requests": total, "rate_target": rate, "rate_achieved": round(total / elapsed, 1), "errors": len(errors),
            "latency_from_due": _percentiles(due_latency), "latency_service": _percentiles(service)}


def closed_loop(port: int, body: bytes, content_type: str, *, windows: int, clients: int,
                duration: float) -> dict[str, Any]:
    """``clients`` connections each sending ``body`` back to back for ``duration`` s: windows/s."""
    counts = [0] * clients
    errors: list[int] = []
    stop = time.perf_counter() + duration

    def work(k: int) -> None:
        conn = Conn(port)
        conn.post("/v1/score", body, content_type)  # warm the connection
        while time.perf_counter() < stop:
            status, _, _ = conn.post("/v1/score", body, content_type)
            if status == 200:
                counts[k] += 1
            else:
                errors.append(status)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"clients": clients, "requests": sum(counts), "errors": len(errors),
            "windows_per_s": round(sum(counts) * windows / elapsed, 1),
            "ms_per_request": round(1e3 * elapsed * clients / max(1, sum(counts)), 2)}


def in_process(model: Any, X: np.ndarray, duration: float) -> dict[str, Any]:
    """Windows/s of ``model.score`` on ``X`` in this process, with torch's default threads and with one.

    The median call time gives the throughput (the server figures are averages too); the best call
    is reported beside it. The comparison uses the better of the two thread settings.
    """
    import torch

    default_threads = torch.get_num_threads()
    out: dict[str, Any] = {}
    for threads in sorted({default_threads, 1}, reverse=True):
        torch.set_num_threads(threads)
        model.score(X)  # warm-up
        times = []
        stop = time.perf_counter() + duration / 2
        while time.perf_counter() < stop:
            t = time.perf_counter()
            model.score(X)
            times.append(time.perf_counter() - t)
        out[f"{threads}_threads"] = {"windows_per_s": round(len(X) / statistics.median(times), 1),
                                     "best_windows_per_s": round(len(X) / min(times), 1), "calls": len(times)}
    torch.set_num_threads(default_threads)
    out["windows_per_s"] = max(v["windows_per_s"] for v in out.values())
    return out


def alias_follow(port: int, registry: Any, name: str, versions: tuple[str, str], body: bytes, *,
                 swaps: int) -> dict[str, Any]:
    """Move the alias ``swaps`` times; seconds until the first response that carries the new version."""
    conn = Conn(port)
    delays = []
    for k in range(swaps):
        target = versions[(k + 1) % 2]
        moved = time.perf_counter()
        registry.promote(name, target, "production", reason=f"bench swap {k}")
        while True:
            status, headers, _ = conn.post("/v1/score", body)
            if status == 200 and headers.get("x-model-version") == target:
                delays.append(time.perf_counter() - moved)
                break
            if time.perf_counter() - moved > 60:
                raise RuntimeError(f"server did not follow the alias to {target} within 60 s")
            time.sleep(0.005)
    conn.close()
    return {"swaps": swaps, "median_s": round(statistics.median(delays), 3), "max_s": round(max(delays), 3),
            "all_s": [round(d, 3) for d in delays]}


def _prepare(store: str, name: str, epochs: int) -> tuple[str, str]:
    """Two lstm_ae versions and ``production`` on the first; reuses what the store already has."""
    from ..registry import open_registry

    registry = open_registry(store)
    versions = [v["version"] for v in registry.list_versions(name) if v.get("model_type") == "lstm_ae"]
    if len(versions) < 2:
        from ..data.generator import generate_windows
        from ..data.io import save_dataset
        from ..pipeline.training import train_model

        with tempfile.TemporaryDirectory() as tmp:
            for seed in range(2 - len(versions)):
                train, val = Path(tmp, f"train{seed}.npz"), Path(tmp, "val.npz")
                save_dataset(generate_windows(600, seed=100 + seed), train)
                save_dataset(generate_windows(200, seed=99), val)
                log.info("training lstm_ae (%d epochs) into %s", epochs, store)
                versions.append(train_model(store, name, str(train), val=str(val), model="lstm_ae", epochs=epochs,
                                            seed=seed)["version"])
    v1, v2 = versions[-2], versions[-1]
    registry.promote(name, v1, "production", reason="benchmark")
    return v1, v2


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"anomaly serve exited with {proc.returncode}")
        try:
            conn = Conn(port)
            status, _ = conn.get("/readyz")
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("anomaly serve did not become ready")


def run(args: argparse.Namespace) -> dict[str, Any]:
    from ..registry import open_registry

    store = args.store or tempfile.mkdtemp(prefix="anomaly-bench-")
    v1, v2 = _prepare(store, args.name, args.epochs)
    registry = open_registry(store)
    model = registry.load(args.name, version=v1)
    scaler = model.detector.scaler_
    T, F = scaler.window_length_, scaler.n_features_in_
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.batch, T, F)).astype(np.float32)
    single = json.dumps({"windows": X[:1].tolist()}).encode()
    batch_json = json.dumps({"windows": X.tolist()}).encode()
    buf = io.BytesIO()
    np.save(buf, X)
    batch_npy = buf.getvalue()

    port = args.port or _free_port()
    env = {**os.environ, "ANOMALY_POLL_INTERVAL_S": str(args.poll_interval)}
    cmd = [sys.executable, "-m", "anomaly_core.cli", "serve", "--store", store, "--name", args.name,
           "--port", str(port), "--log-level", "warning"]
    if args.torch_threads:
        cmd += ["--torch-threads", str(args.torch_threads)]
    proc = subprocess.Popen(cmd, env=env)
    try:
        _wait_ready(port, proc)
        warm = Conn(port)
        for _ in range(50):
            warm.post("/v1/score", single)
        warm.close()
        result: dict[str, Any] = {"model": {"type": "lstm_ae", "version": v1, "window": [T, F]},
                                  "machine": {"cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)}}
        log.info("single-window requests at %s/s for %s s", args.rate, args.duration)
        result["single_window"] = fixed_rate(port, single, rate=args.rate, duration=args.duration)
        log.info("batched requests of %d windows", args.batch)
        result["in_process"] = in_process(model, X, args.batch_duration)
        batched = {}
        for label, body, ctype in (("json", batch_json, "application/json"), ("npy", batch_npy, "application/x-npy")):
            for clients in (1, 2):
                batched[f"{label}_{clients}c"] = closed_loop(port, body, ctype, windows=args.batch, clients=clients,
                                                             duration=args.batch_duration)
        result["batched"] = batched
        best = {k: max(batched[f"{k}_{c}c"]["windows_per_s"] for c in (1, 2)) for k in ("json", "npy")}
        baseline = result["in_process"]["windows_per_s"]
        result["batched_vs_in_process"] = {k: round(v / baseline, 3) for k, v in best.items()}
        log.info("alias moves (poll interval %s s)", args.poll_interval)
        result["alias_follow"] = {**alias_follow(port, registry, args.name, (v1, v2), single, swaps=args.swaps),
                                  "poll_interval_s": args.poll_interval}
        result["machine"]["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
        return result
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _human(r: dict[str, Any]) -> str:
    s, b = r["single_window"], r["batched"]
    lines = [f"model lstm_ae v{r['model']['version']} window {r['model']['window']}; {r['machine']['cpus']} CPUs, "
             f"load {r['machine']['load_avg_1m']} -> {r['machine']['load_avg_1m_after']}",
             f"single window @ {s['rate_target']}/s ({s['rate_achieved']}/s achieved, {s['errors']} errors): "
             f"p50 {s['latency_from_due']['p50_ms']} ms, p99 {s['latency_from_due']['p99_ms']} ms, "
             f"max {s['latency_from_due']['max_ms']} ms (from due time)",
             f"in-process score: {r['in_process']['windows_per_s']:.0f} windows/s (median call)"]
    lines += [f"batched {k}: {v['windows_per_s']:.0f} windows/s ({v['ms_per_request']} ms/request)"
              for k, v in b.items()]
    lines.append(f"batched / in-process: json {r['batched_vs_in_process']['json']:.0%}, "
                 f"npy {r['batched_vs_in_process']['npy']:.0%}")
    a = r["alias_follow"]
    lines.append(f"alias move -> first new-version response: median {a['median_s']} s, max {a['max_s']} s "
                 f"(poll interval {a['poll_interval_s']} s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m anomaly_core.serving.bench", description=__doc__.split("\n")[0])
    p.add_argument("--store", help="store to use (default: a new temporary folder, trained here)")
    p.add_argument("--name", default="telemetry")
    p.add_argument("--rate", type=float, default=200.0, help="single-window requests/s (default %(default)s)")
    p.add_argument("--duration", type=float, default=20.0, help="seconds at that rate (default %(default)s)")
    p.add_argument("--batch", type=int, default=256, help="windows per batched request (default %(default)s)")
    p.add_argument("--batch-duration", type=float, default=6.0, help="seconds per batched run (default %(default)s)")
    p.add_argument("--poll-interval", type=float, default=1.0, help="server alias poll interval (default %(default)s)")
    p.add_argument("--swaps", type=int, default=5, help="alias moves to time (default %(default)s)")
    p.add_argument("--epochs", type=int, default=2, help="lstm_ae epochs when training (default %(default)s)")
    p.add_argument("--torch-threads", type=int, default=None, help="passed to anomaly serve")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    result = run(args)
    sys.stdout.write((json.dumps(result, indent=1) if args.json else _human(result)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
