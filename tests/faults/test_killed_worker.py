"""A Celery worker killed (SIGKILL) in the middle of an export: the message comes back
(acks_late; the visibility timeout, 2 s here, an hour in production) and another worker
builds the export once: one file, one row, one email (rights.exports.build_export)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from people.models import TechnicalTrace
from rights import exports, services
from rights.models import EmailStatus, Export, LinkPurpose, OutgoingEmail, SecretLink
from tests.faults.conftest import database_url, needs_services, wait_for

pytestmark = needs_services
ROWS = 20_000


def start_worker(media: Path, log: Path) -> subprocess.Popen:
    """A real `celery worker` on the test database and Redis, exporting 20 rows a query."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "okasio_privacy", "worker", "--pool", "solo"]
        + ["--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.faults.worker_settings",
            "DATABASE_URL": database_url(),
            "MEDIA_ROOT": str(media),
            "RIGHTS_EXPORT_CHUNK_SIZE": "20",
            "EMAIL_URL": "dummymail://",
        },
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
    )


@pytest.mark.django_db(transaction=True)
def test_it_builds_the_export_once_after_its_worker_was_killed(make_person, settings, tmp_path):
    from okasio_privacy.celery import app

    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    person = make_person()
    seen = timezone.now() - timedelta(days=1)
    TechnicalTrace.objects.bulk_create(
        [TechnicalTrace(person=person, ip_address="192.0.2.1", seen_at=seen) for _ in range(ROWS)]
    )
    now = timezone.now()
    dsr = services.submit_request(
        kind="access", email=person.email, name="", language="en", details={}, now=now
    )
    _, token = SecretLink.issue(
        purpose=LinkPurpose.CONFIRM, request=dsr, expires_at=dsr.confirmation_expires_at(), now=now
    )
    _, dsr, _ = services.confirm_request(token=token, now=now)
    building = media / exports.EXPORTS_DIR

    app.conf.task_always_eager = False
    first = start_worker(media, tmp_path / "worker.log")
    second = None
    try:
        exports.start_export(dsr=dsr, now=now)  # on commit: build_export.delay(dsr.id)
        partial = wait_for(lambda: list(building.glob("*.zip")), timeout=60, what="the build")
        first.kill()  # SIGKILL, mid-build: nothing acknowledged, nothing cleaned up
        first.wait(timeout=30)
        assert not Export.objects.exists()

        second = start_worker(media, tmp_path / "worker.log")
        export = wait_for(
            lambda: Export.objects.filter(request=dsr).first(), timeout=90, what="the export"
        )
        wait_for(
            lambda: OutgoingEmail.objects.filter(template="export_ready", status=EmailStatus.SENT),
            timeout=30,
            what="the download link email",
        )
    finally:
        app.conf.task_always_eager = True
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)

    # Built once: the partial file was rewritten in place, one row, one audit event, one email.
    assert list(building.glob("*.zip")) == partial == [exports.export_path(export)]
    assert Export.objects.count() == 1
    assert AuditEvent.objects.filter(action="export.built").count() == 1
    assert OutgoingEmail.objects.filter(template="export_ready").count() == 1
    with zipfile.ZipFile(exports.export_path(export)) as zf:
        assert zf.read("technical.json").count(b'"record": "technicaltrace"') == ROWS
