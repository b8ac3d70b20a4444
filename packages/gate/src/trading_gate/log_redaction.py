"""A logging filter that masks bearer tokens and PEM key blocks in every record.

The key never reaches a log by design (it stays in a masked `Secret`), and nothing logs
a JWT at INFO. This is the net under that design (RELIABILITY section 5): a library
that logs a request's headers at DEBUG, or an exception that quotes one, still leaves
only `[redacted ...]` behind. It runs on the formatted message, so arguments are
covered too.
"""

import logging
import re
from typing import Final

__all__ = ["RedactingFilter", "install", "redact"]

# A JWT: three base64url segments, the first two starting as JSON objects do ("eyJ").
_JWT: Final = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_PEM: Final = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
)


def redact(text: str) -> str:
    """`text` with every JWT and private-key block replaced by a marker."""
    return _PEM.sub("[redacted private key]", _JWT.sub("[redacted jwt]", text))


class RedactingFilter(logging.Filter):
    """Rewrites each record's message, once formatted, without the secrets in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_text is None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install() -> None:
    """Put the filter on every handler of the root logger (call after configuring it)."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
