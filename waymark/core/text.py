"""Text for fields that must stay on one line.

An email header ends at a line break, so a header value that carries one (a first name typed as
`"Olivia\\r\\nBcc: evil@x"` and rendered into a subject) would start another header. Python's
email package refuses such a value outright, which is safer, but refuses the whole message.
"""

from __future__ import annotations


def single_line(text: str) -> str:
    """`text` with every line break replaced by a space: CR, LF and each other separator
    `str.splitlines` knows (the email package refuses all of them in a header)."""
    return " ".join(text.splitlines())


def has_line_break(text: str) -> bool:
    return single_line(text) != text
