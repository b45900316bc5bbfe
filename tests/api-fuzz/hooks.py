"""schemathesis hooks for the edgechat API fuzz run (loaded via SCHEMATHESIS_HOOKS)."""

import itertools

import schemathesis

_addresses = itertools.count(1)


@schemathesis.hook
def before_call(context, case, **kwargs):
    # Register and login are limited per client IP. Each case claims its own
    # address (the local runtime keeps CF-Connecting-IP as sent; in production
    # Cloudflare sets it), so the fuzzer reaches the logic behind the limit
    # instead of collecting 429s. 198.18.0.0/15 is reserved for benchmarks.
    if case.headers is None:
        case.headers = {}
    n = next(_addresses)
    case.headers["CF-Connecting-IP"] = f"198.{18 + (n >> 16 & 1)}.{n >> 8 & 255}.{n & 255}"
