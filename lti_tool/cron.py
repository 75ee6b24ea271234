"""Periodic jobs for RQ's cron scheduler: ``rq cron --url "$REDIS_URL" lti_tool.cron`` (one per
deployment is enough; more do no harm). It queues the sweep (``services.upkeep``) on ``RQ_QUEUE`` every
``SWEEP_INTERVAL_SECONDS`` (60); the workers run it."""
from __future__ import annotations

import os

from rq import cron

from .jobs import QUEUE_NAME, run_job

cron.register(run_job, os.environ.get("RQ_QUEUE", QUEUE_NAME), args=("lti_tool.services.upkeep.sweep",),
              interval=int(os.environ.get("SWEEP_INTERVAL_SECONDS", "60")), name="sweep")
