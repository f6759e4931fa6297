"""Errors that name the file, the row and the rule, so an operator can act on them."""
from __future__ import annotations


class FeedError(Exception):
    """A landing file (or a whole feed) that cannot be loaded.

    ``file`` is the path as the operator knows it (relative to the landing zone where possible),
    ``row`` the line / element locator (``-`` for the whole file), ``rule`` a short rule id such as
    ``custody.parse`` or ``columns.missing``.
    """

    def __init__(self, file: str, rule: str, message: str, row: object = "-") -> None:
        self.file = str(file)
        self.row = row
        self.rule = rule
        self.message = message
        super().__init__(f"{self.file}:{row}: {rule}: {message}")
