"""`python -m tests.faults.slow_sweep ARGS`: `manage.py sweep ARGS`, pausing after each
committed batch (where retention.sweeps says tests simulate a kill), so that the test that
kills it with SIGKILL catches it between batches, mid-run."""

from __future__ import annotations

import os
import sys
import time

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okasio_privacy.settings")
    import django

    django.setup()
    from django.core.management import execute_from_command_line

    from retention import sweeps

    committed = sweeps.batch_committed

    def slowly(batch: sweeps.SweepResult) -> None:
        committed(batch)
        print(f"batch {batch.affected}", flush=True)
        time.sleep(float(os.environ.get("SWEEP_PAUSE_SECONDS", "0.05")))

    sweeps.batch_committed = slowly
    execute_from_command_line(["manage.py", "sweep", *sys.argv[1:]])
