"""The portal's settings plus one URL: a minimal Django view, the baseline of every bench."""

from __future__ import annotations

from okasio_privacy.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
