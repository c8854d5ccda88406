"""Names people read (teams, models) refuse characters that change how text is displayed.

A control character (a newline, an escape) or a formatting character (the bidi overrides
U+202A-U+202E and isolates U+2066-U+2069, zero-width joiners) lets a name look like another one
in a page, a log or a terminal: ``fraud\u202egpj.exe`` shows as ``fraudexe.jpg``. Unicode
categories Cc (control), Cf (format), Cs (lone surrogates), Co (private use), Zl and Zp (line
and paragraph separators) are refused; letters of every script stay allowed.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def name_problem(value: str, *, what: str = "names") -> str | None:
    """A one-line reason the name is refused, or None when it is acceptable."""
    for char in value:
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            return (
                f"{what} cannot contain control or formatting characters "
                f"(found U+{ord(char):04X} {unicodedata.name(char, 'unnamed')})"
            )
    return None


def validate_display_name(value: str) -> None:
    """Model-field validator: admin forms and model forms run it."""
    problem = name_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_characters")
