"""Load benchmark: the portal's busy endpoints under wrk, each against a minimal Django view.

    python bench/load.py

Starts gunicorn on 127.0.0.1 (settings: bench.settings, the portal plus a minimal view) and
drives each endpoint with wrk for BENCH_SECONDS (10) at BENCH_CONNECTIONS (32):

- the minimal Django view: the full middleware stack and nothing else, the baseline;
- intake, form: POST /en/demande/access/ (one CSRF cookie and token, fetched once and
  reused), a unique address per request (a counter in bench/post.lua);
- intake, API: POST /api/v1/requests/, the same with JSON;
- consent: POST /api/v1/consent/, a banner choice (the banner's API);
- tracker: GET /en/suivi/<secret>/ with a real tracker secret;
- admin queue: GET /admin/rights/datasubjectrequest/ as a DPO whose session (second factor
  verified) is written directly in the session store, over a few hundred requests.

Rate limits are raised through their environment variables for the run (the counters are
still kept in Redis: their round trips are part of what is measured). First each gunicorn
setup in BENCH_GUNICORN (sync workers, 2 to 4; gthread) runs the minimal view and the form
intake for BENCH_SWEEP_SECONDS; the one with the most intake requests per second runs every
endpoint. It prints requests per second, p50 and p99 latency, errors (socket errors and
non-2xx/3xx answers), the ratio to the minimal view, the rows the POSTs created against the
requests wrk counted (nothing lost), and PASS/MISS against the targets. It never fails on a
target: the machine is shared and its figures are noisy.

Run through `bash scripts/bench.sh` (private PostgreSQL and Redis), or by hand with
DATABASE_URL, REDIS_URL, SECRET_KEY and SUBJECT_HASH_KEY set.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
SWEEP_SECONDS = int(os.environ.get("BENCH_SWEEP_SECONDS", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
# "sync:N" or "gthread:NxT" (N workers of T threads), space-separated.
SETUPS = os.environ.get("BENCH_GUNICORN", "sync:2 sync:3 sync:4 gthread:2x4").split()
QUEUE_REQUESTS = 300
LUA = ROOT / "bench" / "post.lua"
UNLIMITED = "1000000000/h"
ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DEBUG": "false",
    "HTTPS": "false",
    "LOG_LEVEL": "WARNING",
    "ALLOWED_HOSTS": "127.0.0.1",
    "RIGHTS_RATE_LIMIT_PER_IP": UNLIMITED,
    "RIGHTS_RATE_LIMIT_PER_EMAIL": UNLIMITED,
    "RIGHTS_RATE_LIMIT_TRACKER_PER_IP": UNLIMITED,
}
# (endpoint, requests per second at least, p99 ms under, no errors)
TARGETS = {
    "intake, form": (300, 250.0),
    "intake, API": (300, 250.0),
    "consent, POST": (600, None),
}


@dataclass
class Result:
    name: str
    rps: float
    p50: float
    p99: float
    requests: int
    errors: int


@dataclass
class Endpoint:
    name: str
    path: str
    method: str = "GET"
    content_type: str = ""
    cookie: str = ""
    body: str = ""
    # DataSubjectRequest emails starting with this count what the POSTs created.
    creates: str = ""


def free_port() -> int:
    from bench.consent import free_port as port

    return port()


# --- The data the endpoints need, written through the ORM ---------------------------------


def prepare() -> dict[str, str]:
    """Create a DPO session, a tracked request and a queue; return the cookies and secrets."""
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group, User
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from consent import banner
    from rights import services
    from rights.models import DataSubjectRequest

    now = timezone.now()
    user, created = User.objects.get_or_create(
        username="bench-dpo", defaults={"email": "bench-dpo@okasio.fr", "is_staff": True}
    )
    if created:
        user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get(name="DPO"))
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", confirmed=True)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()

    queued = DataSubjectRequest.objects.filter(email__endswith="@queue.bench").count()
    for i in range(QUEUE_REQUESTS - queued):
        services.submit_request(
            kind="access",
            email=f"q{i}-{uuid.uuid4().hex[:8]}@queue.bench",
            name="",
            language="fr",
            details={},
            now=now,
        )
    tracked = services.submit_request(
        kind="erasure",
        email=f"tracked-{uuid.uuid4().hex[:8]}@bench.example",
        name="Camille Bench",
        language="en",
        details={"scope": "everything"},
        now=now,
    )
    _, _, tracker = services.confirm_request(token=_confirm_token(tracked, now), now=now)
    return {
        "session": session.session_key,
        "tracker": tracker,
        "banner_version": banner.version(),
    }


def _confirm_token(dsr, now) -> str:
    from rights.models import LinkPurpose, SecretLink

    _, token = SecretLink.issue(
        purpose=LinkPurpose.CONFIRM, request=dsr, expires_at=dsr.confirmation_expires_at(), now=now
    )
    return token


def created(prefix: str) -> int:
    from rights.models import DataSubjectRequest

    return DataSubjectRequest.objects.filter(email__startswith=prefix).count()


def csrf_pair(base: str) -> tuple[str, str]:
    """One CSRF cookie and form token, fetched once and reused by every form POST."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(base + "/en/demande/access/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    cookie = next(c.value for c in jar if c.name == "csrftoken")
    return cookie, token


# --- gunicorn and wrk --------------------------------------------------------------------


def gunicorn_args(setup: str) -> list[str]:
    kind, _, shape = setup.partition(":")
    if kind == "sync":
        return ["--workers", shape]
    workers, _, threads = shape.partition("x")
    return ["--worker-class", "gthread", "--workers", workers, "--threads", threads]


def start_gunicorn(setup: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "okasio_privacy.wsgi"]
        + ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--backlog", "2048"]
        + gunicorn_args(setup),
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(base + "/bench/minimal/", timeout=1)
            return gunicorn
        except OSError:
            time.sleep(0.1)
    gunicorn.terminate()
    raise SystemExit("gunicorn did not start")


def stop_gunicorn(gunicorn: subprocess.Popen) -> None:
    gunicorn.terminate()
    gunicorn.wait(timeout=30)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(base: str, endpoint: Endpoint, *, seconds: int, prefix: str) -> Result:
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    command += ["-s", str(LUA), base + endpoint.path, "--", endpoint.method, prefix]
    command += [endpoint.content_type, endpoint.cookie, endpoint.body]
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+(?:us|ms|s|m))\s*$", out, re.MULTILINE))
    if len(latency) != 2:
        raise SystemExit(f"{endpoint.name}: no latency in wrk's output:\n{out}")
    p50, p99 = (_ms(*re.fullmatch(r"([\d.]+)(\w+)", latency[p]).groups()) for p in ("50", "99"))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = sum(int(n) for n in socket.groups()) if socket else 0
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return Result(
        name=endpoint.name,
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50=p50,
        p99=p99,
        requests=int(re.search(r"(\d+) requests in", out).group(1)),
        errors=errors,
    )


def endpoints(base: str, data: dict[str, str]) -> list[Endpoint]:
    cookie, token = csrf_pair(base)
    form = "application/x-www-form-urlencoded"
    api = "application/json"
    choice = {"version": data["banner_version"], "choices": {"audience": True}}
    return [
        Endpoint("minimal Django view", "/bench/minimal/"),
        Endpoint(
            "intake, form",
            "/en/demande/access/",
            "POST",
            form,
            f"csrftoken={cookie}",
            f"csrfmiddlewaretoken={token}&email={{n}}%40form.bench&name=Bench&language=en",
            creates="form-",
        ),
        Endpoint(
            "intake, API",
            "/api/v1/requests/",
            "POST",
            api,
            body='{"kind": "access", "email": "{n}@api.bench", "language": "en"}',
            creates="api-",
        ),
        Endpoint("consent, POST", "/api/v1/consent/", "POST", api, body=json.dumps(choice)),
        Endpoint("tracker, GET", f"/en/suivi/{data['tracker']}/"),
        Endpoint(
            "admin queue, GET",
            "/admin/rights/datasubjectrequest/",
            cookie=f"sessionid={data['session']}",
        ),
    ]


def run(base: str, chosen: list[Endpoint], *, seconds: int, run_id: str) -> list[Result]:
    results = []
    for endpoint in chosen:
        # A second of the same load first: every worker warms its caches and connections.
        wrk(base, endpoint, seconds=1, prefix=f"{endpoint.creates}warm{run_id}")
        prefix = f"{endpoint.creates}{run_id}"
        result = wrk(base, endpoint, seconds=seconds, prefix=prefix)
        if endpoint.creates:
            rows = created(prefix)
            print(
                f"  {endpoint.name}: {result.requests} requests counted by wrk, "
                f"{rows} requests filed",
                flush=True,
            )
        results.append(result)
    return results


def print_table(title: str, results: list[Result]) -> None:
    baseline = results[0].rps
    print(f"\n{title}")
    print(
        f"{'endpoint':<22} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7} "
        f"{'vs minimal':>10}  target"
    )
    for r in results:
        verdict = ""
        if r.name in TARGETS:
            rps, p99 = TARGETS[r.name]
            ok = r.rps >= rps and r.errors == 0 and (p99 is None or r.p99 < p99)
            wanted = f">= {rps} req/s" + (f", p99 < {p99:.0f} ms" if p99 else "") + ", 0 errors"
            verdict = f"{'PASS' if ok else 'MISS'} ({wanted})"
        print(
            f"{r.name:<22} {r.rps:>7.0f} {r.p50:>7.1f} {r.p99:>7.1f} {r.errors:>7} "
            f"{r.rps / baseline:>9.2f}x  {verdict}"
        )


def main() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    env = {**os.environ, **ENV}
    os.environ.update(env)
    # As the production image does (Dockerfile): DEBUG off serves the manifest's files.
    for command in (["migrate"], ["collectstatic"]):
        subprocess.run(
            [sys.executable, "manage.py", *command, "--no-input", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
    data = prepare()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()

    # Which gunicorn setup: the minimal view and the form intake, briefly, on each.
    sweep = []
    for setup in SETUPS:
        gunicorn = start_gunicorn(setup, port, env)
        try:
            chosen = endpoints(base, data)[:2]
            results = run(base, chosen, seconds=SWEEP_SECONDS, run_id=uuid.uuid4().hex[:8])
        finally:
            stop_gunicorn(gunicorn)
        sweep.append((setup, results))
    print(f"\ngunicorn setups, {SWEEP_SECONDS} s per endpoint, {CONNECTIONS} connections:")
    print(f"{'setup':<12} {'minimal req/s':>14} {'intake req/s':>13} {'intake p99 ms':>14}")
    for setup, (minimal, intake) in sweep:
        print(f"{setup:<12} {minimal.rps:>14.0f} {intake.rps:>13.0f} {intake.p99:>14.1f}")
    best = max(sweep, key=lambda s: (s[1][1].errors == 0, s[1][1].rps))[0]
    print(f"chosen: {best} (most intake requests per second without errors)")

    gunicorn = start_gunicorn(best, port, env)
    try:
        results = run(base, endpoints(base, data), seconds=SECONDS, run_id=uuid.uuid4().hex[:8])
    finally:
        stop_gunicorn(gunicorn)
    print_table(
        f"load bench: gunicorn {best}, wrk 1 thread, {CONNECTIONS} connections, {SECONDS} s "
        f"per endpoint, 127.0.0.1, {os.cpu_count()} CPUs shared with PostgreSQL, Redis and wrk "
        f"({time.monotonic() - started:.0f} s in all)",
        results,
    )


if __name__ == "__main__":
    main()
