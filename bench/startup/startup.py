#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Startup of the `weir` binary: size, `weir --version`, and `weir run` of
examples/jobs/sums (RocksDB state, checkpoints) up to "Job has been
submitted". Each binary given is measured in turn, round after round, in
one run, so that a comparison (the static binary against the shared one)
is a ratio taken under the same load.

  bench/startup/startup.py [--rounds N] [--out DIR] NAME=WEIR [NAME=WEIR...]

Prints a table and writes DIR/startup-<UTC start>-<commit>.json (DIR:
--out, else $WEIR_BENCH_RESULTS, else bench/results).
"""

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SUBMITTED = b"Job has been submitted"
CONF = """rest.port: 0
state.backend.type: rocksdb
state.backend.local-dir: state
execution.checkpointing.dir: checkpoints
execution.checkpointing.interval: 1s
"""


def time_version(weir):
    start = time.perf_counter()
    subprocess.run([weir, "--version"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def time_run(weir, workdir):
    """Seconds from exec to the "Job has been submitted" line; then stops
    the job with SIGTERM and waits (bounded) for it to exit."""
    env = dict(os.environ, WEIR_RUNTIME_DIR=os.path.join(workdir, "runtime"))
    env.pop("WEIR_CONF_DIR", None)
    start = time.perf_counter()
    proc = subprocess.Popen([weir, "run", "-c", "conf.yaml", "sums.yaml"],
                            cwd=workdir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    elapsed = None
    try:
        for _ in range(100):  # the line comes among the first few
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith(SUBMITTED):
                elapsed = time.perf_counter() - start
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if elapsed is None:
        raise RuntimeError(f"{weir} run printed no '{SUBMITTED.decode()}'")
    return elapsed


def prepare(workdir):
    shutil.copy(os.path.join(SOURCE_ROOT, "examples/jobs/sums/sums.yaml"),
                workdir)
    with open(os.path.join(workdir, "conf.yaml"), "w") as f:
        f.write(CONF)
    with open(os.path.join(workdir, "events.csv"), "w") as f:
        for i in range(1000):
            f.write(f"user{i % 12},{i % 100 + 1}\n")


def machine():
    info = {"host": socket.gethostname(), "kernel": platform.release(),
            "cpus": os.cpu_count(), "load": os.getloadavg()[0]}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            info["memory_kib"] = int(f.readline().split()[1])
    except OSError:
        pass
    return info


def summary(samples):
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered) * 1e3, 2),
            "min_ms": round(ordered[0] * 1e3, 2),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1e3, 2),
            "samples": len(ordered)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binaries", nargs="+", metavar="NAME=WEIR")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--out")
    args = parser.parse_args()
    binaries = {}
    for arg in args.binaries:
        name, sep, path = arg.partition("=")
        if not sep or not os.access(path, os.X_OK):
            parser.error(f"'{arg}' is not NAME=executable")
        binaries[name] = os.path.abspath(path)

    started = time.gmtime()
    version_s = {n: [] for n in binaries}
    run_s = {n: [] for n in binaries}
    with tempfile.TemporaryDirectory(prefix="weir-startup.") as tmp:
        for name in binaries:
            os.makedirs(os.path.join(tmp, name))
            prepare(os.path.join(tmp, name))
        for name, weir in binaries.items():  # warm the page cache
            time_version(weir)
        for _ in range(args.rounds):
            for name, weir in binaries.items():
                version_s[name].append(time_version(weir))
        for _ in range(max(1, args.rounds // 2)):
            for name, weir in binaries.items():
                # A fresh job each time: no checkpoint to restore.
                workdir = os.path.join(tmp, name)
                for d in ("state", "checkpoints", "runtime"):
                    shutil.rmtree(os.path.join(workdir, d), ignore_errors=True)
                run_s[name].append(time_run(weir, workdir))

    results = {}
    for name, weir in binaries.items():
        version = subprocess.run([weir, "--version"], check=True,
                                 capture_output=True, text=True).stdout
        results[name] = {
            "binary": weir, "size_bytes": os.path.getsize(weir),
            "version_output": version.strip(),
            "weir --version": summary(version_s[name]),
            "weir run to submitted": summary(run_s[name]),
        }
    first = next(iter(binaries))
    print(f"{'binary':<10} {'size MB':>8} {'--version ms':>13} {'run ms':>8}"
          f"   (medians; ratio to {first})")
    for name, r in results.items():
        v = r["weir --version"]["median_ms"]
        run = r["weir run to submitted"]["median_ms"]
        v0 = results[first]["weir --version"]["median_ms"]
        run0 = results[first]["weir run to submitted"]["median_ms"]
        print(f"{name:<10} {r['size_bytes'] / 1e6:>8.1f} {v:>13.2f} {run:>8.2f}"
              f"   x{v / v0:.2f} x{run / run0:.2f}")

    commit = "unknown"
    line = results[first]["version_output"].splitlines()
    for text in line:
        if "commit" in text:
            commit = text.split()[-1].strip("()")
    out_dir = (args.out or os.environ.get("WEIR_BENCH_RESULTS")
               or os.path.join(SOURCE_ROOT, "bench/results"))
    os.makedirs(out_dir, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", started)
    path = os.path.join(out_dir, f"startup-{stamp}-{commit}.json")
    with open(path, "w") as f:
        json.dump({"bench": "startup", "started": stamp, "commit": commit,
                   "machine": machine(), "rounds": args.rounds,
                   "results": results}, f, indent=2)
    print(f"results: {path}")


if __name__ == "__main__":
    sys.exit(main())
