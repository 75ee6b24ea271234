"""The periodic sweep: what nobody clicks for. The RQ cron scheduler (``rq cron lti_tool.cron``, see
docs/deploy.md) queues it every ``SWEEP_INTERVAL_SECONDS``; ``flask jobs sweep`` runs it by hand or from
a timer on a set-up without Redis. Safe to run often and on several hosts at once."""
from __future__ import annotations

import logging

from . import matchmaking, outbox

log = logging.getLogger(__name__)


def sweep() -> dict[str, int]:
    """Fail matching runs stuck past their time limit, flag sends a dying worker interrupted, and send
    every message that is due (its retry wait is over)."""
    result = {"stuck_runs": matchmaking.fail_stuck_runs(), "interrupted": outbox.flag_interrupted(),
              **outbox.deliver_outbox()}
    if any(result.values()):
        log.info("sweep: %s", result)
    return result
