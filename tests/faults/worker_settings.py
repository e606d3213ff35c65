"""The portal's settings for the Celery worker of tests/faults/test_killed_worker.py: a killed
worker's message comes back after 2 seconds instead of an hour (see settings.py)."""

from __future__ import annotations

from okasio_privacy.settings import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2,
    # Look for messages to restore every second (the default is about every 100 s).
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
