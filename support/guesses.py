"""Wrong guesses of a case's private token, counted per source address and per case.

A limit on guessing must never lock the real claimant out of their own case: counting
every check, right or wrong, let ten wrong tokens from anywhere shut the claimant out for
an hour, emailed link included. So the token is checked first and the right one is always
accepted; only a wrong guess is counted, against the address it came from and against the
case number it named, and once either has had too many, wrong guesses are answered 429
instead of 404. The token's 192 random bits keep it secret; the limit keeps out the noise.
"""
from __future__ import annotations

import time

from flask import request
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from .extensions import limiter

#: a case number is short; a longer one is cut so that no guess makes a huge counter key
MAX_NUMBER = 32


def wrong(number: str, *, scope: str, per_source: str, per_case: str) -> None:
    """Count a wrong token for case ``number``; raise 429 once its address or its case is over a limit.

    ``per_source`` and ``per_case`` are limit strings (``"10/minute;60/hour"``); ``scope``
    keeps the counters of one door (the pages, the API) apart from another's.
    """
    if not limiter.enabled:
        return
    counters = [(limit, f"{scope}-ip", f"ip:{request.remote_addr}") for limit in parse_many(per_source)]
    counters += [(limit, f"{scope}-case", f"case:{number.strip().upper()[:MAX_NUMBER]}") for limit in parse_many(per_case)]
    over = [(limit, keys) for limit, *keys in counters if not limiter.limiter.hit(limit, *keys)]
    if over:
        reset_at = max(limiter.limiter.get_window_stats(limit, *keys).reset_time for limit, keys in over)
        raise TooManyRequests(retry_after=max(1, int(reset_at - time.time()) + 1))
