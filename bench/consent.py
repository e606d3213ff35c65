"""Benchmark the consent endpoint against a minimal Django view, in the same run.

GET /api/v1/consent/ is the busiest endpoint of the portal: banner.js calls it on every page
view of every visitor. This starts gunicorn on 127.0.0.1 (settings: bench.settings, the
portal plus a minimal view), drives each URL with wrk for BENCH_SECONDS, and prints requests
per second, p99 latency and the ratio to the minimal view.

Run through `bash scripts/bench.sh` (private PostgreSQL and Redis), or by hand with
DATABASE_URL, REDIS_URL, SECRET_KEY and SUBJECT_HASH_KEY set:
`.venv/bin/python bench/consent.py`.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def returning_visitor_cookie() -> str:
    """A current choice cookie, as banner.js would send it in `state`."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import uuid

    import django

    django.setup()
    from django.utils import timezone

    from consent import banner

    choice = banner.StoredChoice(
        browser_id=uuid.uuid4(),
        version=banner.version(),
        chosen_at=timezone.now().replace(microsecond=0),
        choices={"audience": False, "advertising": False, "social": False},
    )
    return choice.cookie_value()


def wrk(url: str) -> tuple[float, float]:
    """Return (requests per second, p99 latency in ms) for `url`."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=SECONDS + 30,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses")
    return rps, p99


def main() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "HTTPS": "false",
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    os.environ.update(env)
    cookie = returning_visitor_cookie()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "okasio_privacy.wsgi"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/bench/minimal/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not start")
        targets = [
            ("minimal Django view", "/bench/minimal/"),
            ("consent, returning visitor", f"/api/v1/consent/?lang=fr&state={cookie}"),
            ("consent, new visitor", "/api/v1/consent/?lang=fr"),
        ]
        for _name, path in targets:  # warm every worker's caches
            for _ in range(WORKERS * 5):
                urllib.request.urlopen(base + path, timeout=5).read()
        results = [(name, *wrk(base + path)) for name, path in targets]
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
    baseline = results[0][1]
    print(
        f"\nconsent bench: gunicorn {WORKERS} sync workers, wrk 1 thread, "
        f"{CONNECTIONS} connections, {SECONDS} s per URL, 127.0.0.1"
    )
    print(f"{'endpoint':<30} {'req/s':>9} {'p99 ms':>8} {'vs minimal':>11}")
    for name, rps, p99 in results:
        print(f"{name:<30} {rps:>9.0f} {p99:>8.1f} {rps / baseline:>10.2f}x")


if __name__ == "__main__":
    main()
