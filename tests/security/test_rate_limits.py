"""The intake's rate limits hold across web workers: the counters live in the shared Redis.

Two separate Python processes, each with its own Django and its own test client (what two
gunicorn workers are), take turns posting the request form from one client IP. Together they
reach RIGHTS_RATE_LIMIT_PER_IP, and the process that crosses it is refused even though it
sent fewer than the limit itself. The posts are invalid (no language): the limit is counted
before the form is validated, so nothing is written to the database.
"""

from __future__ import annotations

import multiprocessing
import os

import pytest
from django.core.cache import cache

LIMIT = 6
STATIC_BACKEND = "django.contrib.staticfiles.storage.StaticFilesStorage"


def _worker(commands, answers) -> None:
    """A web worker: its own process, its own Django; posts the form when told to."""
    import django

    os.environ["RIGHTS_RATE_LIMIT_PER_IP"] = f"{LIMIT}/h"
    os.environ["RIGHTS_RATE_LIMIT_PER_EMAIL"] = "1000/h"
    django.setup()
    from django.conf import settings
    from django.test import Client, override_settings

    # As tests/conftest.py does: static files from the finders, no manifest needed.
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": STATIC_BACKEND}}
    override_settings(STORAGES=storages).enable()
    client = Client(REMOTE_ADDR="198.51.100.7", HTTP_HOST="127.0.0.1")
    answers.put(("ready", os.getpid()))
    while (n := commands.get()) is not None:
        response = client.post("/demande/access/", {"email": f"p{n}@example.fr", "name": "P"})
        answers.put((response.status_code, os.getpid()))


@pytest.fixture
def two_workers():
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs the shared Redis of `make test`")
    cache.clear()
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters, like gunicorn workers
    workers = []
    for _ in range(2):
        commands, answers = spawn.Queue(), spawn.Queue()
        process = spawn.Process(target=_worker, args=(commands, answers), daemon=True)
        process.start()
        workers.append((process, commands, answers))
    try:
        pids = {answers.get(timeout=60)[1] for _, _, answers in workers}
        assert len(pids) == 2 and os.getpid() not in pids
        yield workers
    finally:
        for process, commands, _ in workers:
            commands.put(None)
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
        cache.clear()


def test_two_processes_share_the_per_ip_limit(two_workers):
    statuses: list[list[int]] = [[], []]
    for n in range(2 * LIMIT):  # alternately: worker 0, worker 1, worker 0...
        _, commands, answers = two_workers[n % 2]
        commands.put(n)
        statuses[n % 2].append(answers.get(timeout=30)[0])
    # Each worker sent LIMIT posts, so neither alone was over: together they were.
    assert statuses[0] == [200] * (LIMIT // 2) + [429] * (LIMIT // 2)
    assert statuses[1] == [200] * (LIMIT // 2) + [429] * (LIMIT // 2)


def test_each_counter_lives_for_its_period_in_redis(settings, rf):
    """The counting script starts a counter with its period's expiry and counts on it."""
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs the shared Redis of `make test`")
    from rights.ratelimits import rate_limited

    settings.RIGHTS_RATE_LIMIT_PER_IP = "3/10m"
    settings.RIGHTS_RATE_LIMIT_PER_EMAIL = "2/d"
    cache.clear()
    request = rf.post("/demande/access/", REMOTE_ADDR="198.51.100.9")
    assert [rate_limited(request, "test.ttl", email="p@example.fr") for _ in range(3)] == [
        False,
        False,
        True,  # the address's third: over 2/d
    ]
    client = cache._cache.get_client()
    # Keys: [prefix]:ratelimit:<group>:<scope>:<allowed>/<seconds>:<keyed hash>
    ttls = {key.decode().split(":")[-2]: client.ttl(key) for key in client.keys("*test.ttl*")}
    assert set(ttls) == {"3/600", "2/86400"}
    assert 590 < ttls["3/600"] <= 600 and 86390 < ttls["2/86400"] <= 86400
    cache.clear()
