"""Why registration says no: worded once for a person, not yet in their language.

Domain code knows neither Flask nor the caller's language. It raises a Refusal with a stable `code` for
programs and an English msgid for people, marked with N_ so that the catalog extraction finds it, plus
the msgid's parameters. The API renders the words with flask_babel's gettext in the language the
gateway asked for (see services.registration.api.problem_for).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

#: gettext, or anything else that maps an English msgid to the reader's language
Translate = Callable[[str], str]


def N_(msgid: str) -> str:
    """Marks a message for extraction into the catalog; it is translated when it is shown."""
    return msgid


@dataclass(frozen=True)
class Wording:
    """A message for a person: an English msgid and the values of its %(placeholders)s."""

    msgid: str
    params: dict = field(default_factory=dict)

    def render(self, translate: Translate) -> str:
        text = translate(self.msgid)
        return text % self.params if self.params else text


@dataclass(frozen=True)
class FieldError:
    """One input to blame: a field (dotted path), a code, the words, and any extra keys for the caller."""

    field: str
    code: str
    wording: Wording
    extra: dict = field(default_factory=dict)


class Refusal(Exception):
    """An operation refused. `field` names the one input to blame, `errors` several of them."""

    #: the HTTP status the API answers with
    status = 422
    #: whether the message is also the problem's `detail`; a refused form field gets the generic
    #: "correct the marked fields" instead, as pydantic's refusals of the other fields do
    message_is_detail = False

    def __init__(
        self,
        code: str,
        msgid: str,
        *,
        field: str | None = None,
        errors: list[FieldError] | None = None,
        **params,
    ):
        super().__init__(msgid % params if params else msgid)
        self.code, self.field = code, field
        self.wording = Wording(msgid, params)
        self.errors = errors if errors is not None else []
        if field is not None and not self.errors:
            self.errors = [FieldError(field, code, self.wording)]

    def message(self, translate: Translate) -> str:
        return self.wording.render(translate)


class Invalid(Refusal):
    """The input is wrong (422)."""


class NotFound(Refusal):
    """What the request names does not exist, or not where it says (404)."""

    status = 404
    message_is_detail = True


class Conflict(Refusal):
    """The input clashes with what is stored: a taken slug, a registered e-mail (409)."""

    status = 409
    message_is_detail = True


class Forbidden(Refusal):
    """The operation is not open now, whoever asks: registration closed (403)."""

    status = 403
    message_is_detail = True
