#!/usr/bin/env python3
"""Scale check of `kpp hollow-nodes` against `kpp server --disable-agent` (not a timed test).

Starts a server in a temp data dir, then N hollow nodes in one process, and prints: the time
until every node registered, the RSS of both processes, their CPU use in steady state and the
lease renewals per second the server sustained (from the hollow-node process's minute reports).
With --pods P it then creates P pods bound to the nodes round-robin (spec.nodeName set, as a
scheduler would bind them) and prints how long until all run, and both RSS figures again (the
issue's Density case is --count 5000 --pods 50000).
Usage: bench/hollownodes/run.py [--kpp build/kpp] [--count 10000] [--steady-seconds 130]
                                [--pods 0] [--events true]
"""
import argparse
import base64
import http.client
import json
import ssl
import threading
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


class Api:
    """A minimal HTTPS client with the admin certificate of a kpp kubeconfig."""

    def __init__(self, kubeconfig, root):
        text = open(kubeconfig).read()

        def field(name):
            return re.search(name + r": (\S+)", text).group(1)

        self.host, self.port = re.match(r"https://([^:]+):(\d+)", field("server")).groups()
        files = {}
        for name in ("certificate-authority-data", "client-certificate-data",
                     "client-key-data"):
            path = os.path.join(root, name)
            with open(path, "wb") as f:
                f.write(base64.b64decode(field(name)))
            files[name] = path
        self.context = ssl.create_default_context(cafile=files["certificate-authority-data"])
        self.context.load_cert_chain(files["client-certificate-data"], files["client-key-data"])
        self.local = threading.local()

    def request(self, method, path, body=None):
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = http.client.HTTPSConnection(self.host, int(self.port),
                                                     context=self.context)
            self.local.connection = connection
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=json.dumps(body) if body else None,
                           headers=headers)
        response = connection.getresponse()
        data = response.read()
        return response.status, data


def create_pods(api, count, nodes, prefix, threads=16):
    def worker(start):
        for i in range(start, count, threads):
            pod = {"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": f"density-{i}", "namespace": "default",
                                "labels": {"app": "density"}},
                   "spec": {"nodeName": f"{prefix}{i % nodes}",
                            "containers": [{"name": "main",
                                            "image": "registry.k8s.io/pause:3.10"}]}}
            for _ in range(5):
                status, data = api.request("POST", "/api/v1/namespaces/default/pods", pod)
                if status in (201, 409):
                    break
                time.sleep(0.5)
            else:
                print("create failed:", status, data[:200], file=sys.stderr)

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def not_running(api):
    status, data = api.request(
        "GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Ddensity"
               "&fieldSelector=status.phase%21%3DRunning&limit=1")
    body = json.loads(data)
    return len(body.get("items", [])) + body.get("metadata", {}).get("remainingItemCount", 0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kpp", default="build/kpp")
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--steady-seconds", type=int, default=130)
    parser.add_argument("--heartbeat-workers", type=int, default=16)
    parser.add_argument("--pods", type=int, default=0)
    parser.add_argument("--events", default="true")
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
                                   str(args.heartbeat_workers), "--events", args.events],
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
        if args.pods > 0:
            api = Api(kubeconfig, root)
            began = time.time()
            create_pods(api, args.pods, args.count, "hollow-")
            created = time.time() - began
            print(f"pods: {args.pods} created in {created:.1f} s "
                  f"({args.pods / created:.0f}/s, 16 client threads)")
            while True:
                left = not_running(api)
                if left == 0:
                    break
                if time.time() - began > 1800:
                    print(f"  {left} pods still not Running after 30 minutes")
                    break
                time.sleep(1)
            running = time.time() - began
            print(f"  all Running {running:.1f} s after the first create")
            time.sleep(20)
            print(f"  with {args.pods} running pods: server RSS {rss_mib(server.pid):.0f} MiB, "
                  f"hollow-nodes RSS {rss_mib(hollow.pid):.0f} MiB")
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
