"""The error every bad input raises: it names the file, the line and the field, and says
what was expected, so that a user can fix the input without reading the code."""
from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad input data, registry entry, scenario or parameter.

    ``str(error)`` reads ``file, line N, field 'x': what is wrong (expected: ...)``; the
    parts that do not apply are left out.
    """

    def __init__(self, file: str | Path | None, message: str, *, line: int | None = None,
                 field: str | None = None, expected: str | None = None) -> None:
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.message = message
        self.expected = expected
        super().__init__(self._render())

    def _render_traceback_(self) -> list[str]:
        """What IPython shows for this error (a notebook cell, the error papermill raises and
        prints, the exported page of a failed notebook): the message alone, as the command
        line prints it. The message names the file, line and field to fix; the traceback
        through the cell and this package (17 lines for a misspelt ``-p scenaro``) only hid
        it. IPython calls this method of an exception, where it exists, instead of formatting
        the traceback (IPython.core.interactiveshell, showtraceback)."""
        return [f"{type(self).__name__}: {self}"]

    def _render(self) -> str:
        where = [p for p in (self.file, f"line {self.line}" if self.line else None,
                             f"field '{self.field}'" if self.field else None) if p]
        text = (", ".join(where) + ": " if where else "") + self.message
        return text + (f" (expected: {self.expected})" if self.expected else "")
