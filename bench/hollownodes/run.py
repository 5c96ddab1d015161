#!/usr/bin/env python3
"""Scale check of `kpp hollow-nodes` against `kpp server --disable-agent` (not a timed test).

Starts a server in a temp data dir, then N hollow nodes in one process, and prints: the time
until every node registered, the RSS of both processes, their CPU use in steady state and the
lease renewals per second the server sustained (from the hollow-node process's minute reports).
Usage: bench/hollownodes/run.py [--kpp build/kpp] [--count 10000] [--steady-seconds 130]
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kpp", default="build/kpp")
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--steady-seconds", type=int, default=130)
    parser.add_argument("--heartbeat-workers", type=int, default=16)
    args = parser.parse_args()

    root = tempfile.mkdtemp(prefix="kpp-hollow-bench-")
    data = os.path.join(root, "data")
    kubeconfig = os.path.join(data, "kubeconfig.yaml")
    server_log = open(os.path.join(root, "server.log"), "w")
    hollow_log_path = os.path.join(root, "hollow.log")
    server = hollow = None
    try:
        server = subprocess.Popen([args.kpp, "server", "--disable-agent", "--data-dir", data,
                                   "--https-listen-port", "0"], stdout=server_log,
                                  stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while not os.path.exists(kubeconfig):
            if time.time() > deadline or server.poll() is not None:
                sys.exit("server did not start; see " + root)
            time.sleep(0.1)
        server_idle_rss = rss_mib(server.pid)
        hollow_log = open(hollow_log_path, "w")
        start = time.time()
        hollow = subprocess.Popen([args.kpp, "hollow-nodes", "--kubeconfig", kubeconfig,
                                   "--count", str(args.count), "--heartbeat-workers",
                                   str(args.heartbeat_workers)],
                                  stdout=hollow_log, stderr=subprocess.STDOUT)
        registered_at = None
        while registered_at is None:
            if hollow.poll() is not None:
                sys.exit("hollow-nodes exited; see " + hollow_log_path)
            with open(hollow_log_path) as f:
                m = re.search(r"All \d+ hollow nodes registered in ([0-9.]+)s", f.read())
            if m:
                registered_at = float(m.group(1))
            elif time.time() - start > 900:
                sys.exit("registration took over 15 minutes")
            time.sleep(0.5)
        print(f"hollow nodes: {args.count}")
        print(f"registration (Node + Lease each): {registered_at:.1f} s "
              f"({args.count / registered_at:.0f} nodes/s)")
        print(f"server RSS idle before: {server_idle_rss:.0f} MiB")
        # Let the lease renewals settle into their 10 s rhythm.
        time.sleep(15)
        cpu_server0, cpu_hollow0, t0 = cpu_seconds(server.pid), cpu_seconds(hollow.pid), time.time()
        time.sleep(args.steady_seconds)
        cpu_server1, cpu_hollow1, t1 = cpu_seconds(server.pid), cpu_seconds(hollow.pid), time.time()
        elapsed = t1 - t0
        print(f"steady state over {elapsed:.0f} s (load average {os.getloadavg()[0]:.1f}):")
        print(f"  server CPU {100 * (cpu_server1 - cpu_server0) / elapsed:.0f}% of a core, "
              f"RSS {rss_mib(server.pid):.0f} MiB, {threads(server.pid)} threads")
        print(f"  hollow-nodes CPU {100 * (cpu_hollow1 - cpu_hollow0) / elapsed:.0f}% of a core, "
              f"RSS {rss_mib(hollow.pid):.0f} MiB, {threads(hollow.pid)} threads")
        with open(hollow_log_path) as f:
            reports = re.findall(r"(\d\d:\d\d:\d\d\.\d+).*leaseRenewals=(\d+) leaseFailures=(\d+)",
                                 f.read())
        if len(reports) >= 2:
            def seconds(stamp):
                h, m, s = stamp.split(":")
                return int(h) * 3600 + int(m) * 60 + float(s)
            (ta, ra, fa), (tb, rb, fb) = reports[-2], reports[-1]
            rate = (int(rb) - int(ra)) / (seconds(tb) - seconds(ta))
            print(f"  lease renewals: {rate:.0f}/s (target {args.count / 10:.0f}/s), "
                  f"failures in that minute: {int(fb) - int(fa)}")
        else:
            print("  lease renewals: fewer than two minute reports; raise --steady-seconds")
    finally:
        for process in (hollow, server):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
        if os.environ.get("KEEP_BENCH_DIR"):
            print("logs in", root)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
