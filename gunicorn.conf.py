"""gunicorn's settings file: gunicorn reads it from its working directory, so the image
(WORKDIR /app), docker compose and bench/load.py all run with it. The command line gives
the rest (bind, workers)."""

from __future__ import annotations

import gc

# The access log without link secrets nor searched addresses (okasio_privacy/logs.py).
logger_class = "okasio_privacy.logs.AccessLogger"


def post_worker_init(worker: object) -> None:
    """Once a worker has loaded the portal, take what is loaded out of the cyclic garbage
    collector's reach (gc.freeze): it lives as long as the worker, and each full collection
    walked it again. An intake spent about 0.25 ms of CPU in the collector, 0.10 ms after
    (#8; measured in-process with gc.callbacks over 500 intakes)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports the views, forms and serializers now)
    gc.freeze()
