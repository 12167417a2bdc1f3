"""One error family for the whole product. Each error carries its HTTP status and a stable
code; the web tier turns any of them into `{"error": code, "detail": text}` (plus the broken
rules, where there are some) in one handler, and the CLI prints the detail.

Raise the most specific class; subclass one of these for a domain's own errors only when
callers need to tell it apart (e.g. `coverage.CoverageError` is an `InvalidInput`)."""

from __future__ import annotations

from typing import Any, ClassVar


class LawGridError(Exception):
    """A request that cannot be honoured, with the reason a user can act on."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "invalid_input"

    def __init__(self, detail: str, *, rule: str | None = None, zh: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.rule = rule
        self.zh = zh  # the same in Chinese, for pages (the API's detail stays as it is)
        self.extra = extra

    def text(self, lang: str = "zh") -> str:
        """The reason in a page's language: the Chinese text where the raiser gave one."""
        return self.zh if lang == "zh" and self.zh else self.detail

    def payload(self, lang: str = "zh") -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "detail": self.detail}
        if self.rule:
            body["rule"] = self.rule
        body.update(self.extra)
        return body


class InvalidInput(LawGridError):
    """The request is malformed or out of range (HTTP 400)."""

    code = "bad_request"


class Unauthorized(LawGridError):
    """Nobody we know is asking (HTTP 401)."""

    status = 401
    code = "unauthorized"


class Forbidden(LawGridError):
    """The caller is known but may not do this (HTTP 403)."""

    status = 403
    code = "forbidden"


class NotFound(LawGridError, LookupError):
    """No such object in the caller's scope (HTTP 404): outside the scope looks the same as
    absent, so ids of other units' objects reveal nothing."""

    status = 404
    code = "not_found"


class Conflict(LawGridError):
    """The object's state does not allow this now, or someone else was first (HTTP 409)."""

    status = 409
    code = "conflict"


class Refused(LawGridError):
    """The request breaks legal or business rules (HTTP 422); each violation names its rule.

    `violations` are dicts with at least a "rule" key; `reasons` maps a rule to its
    (Chinese, English) explanation, so the answer can be given in the caller's language."""

    status = 422
    code = "refused"

    def __init__(
        self,
        violations: list[dict[str, Any]],
        reasons: dict[str, tuple[str, str]] | None = None,
        detail: str | None = None,
    ) -> None:
        self.violations = violations
        self.reasons = reasons or {}
        rules = sorted({v["rule"] for v in violations})
        text = detail or "; ".join(
            f"{v.get('officer', '')} {self._reason(v['rule'], 'en')}".strip() for v in violations
        )
        super().__init__(text, rule=",".join(rules))

    def _reason(self, rule: str, lang: str) -> str:
        pair = self.reasons.get(rule)
        if pair is None:
            return rule
        return pair[0] if lang == "zh" else pair[1]

    def payload(self, lang: str = "zh") -> dict[str, Any]:
        body = super().payload(lang)
        body["violations"] = [{**v, "reason": self._reason(v["rule"], lang)} for v in self.violations]
        return body


class Throttled(LawGridError):
    """Too many attempts; try again later (HTTP 429)."""

    status = 429
    code = "throttled"


class Misconfigured(LawGridError):
    """The installation is not set up for this; an administrator must fix its configuration
    (HTTP 503): the request itself may be sent again once that is done."""

    status = 503
    code = "misconfigured"


class Unavailable(LawGridError):
    """A service LawGrid needs cannot be reached now, the database say (HTTP 503): send the
    request again shortly; nothing of it was kept."""

    status = 503
    code = "unavailable"


ERRORS: tuple[type[LawGridError], ...] = (
    InvalidInput,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    Refused,
    Throttled,
    Unavailable,
    Misconfigured,
)


DATABASE_REFUSAL = "LG422"
"""The SQLSTATE of a rule a trigger or gate function of the database refused (0015)."""


def from_database(exc: Exception, reasons: dict[str, tuple[str, str]] | None = None) -> LawGridError | None:
    """A database refusal (SQLSTATE LG422, message "rule[,rule]: reason") as the Refused it
    stands for; None for any other database error."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) != DATABASE_REFUSAL:
        return None
    diag = getattr(orig, "diag", None)
    message = (getattr(diag, "message_primary", None) or str(orig)).strip()
    rules, _, reason = message.partition(": ")
    return Refused(
        [{"rule": r, "enforced_by": "database"} for r in rules.split(",") if r],
        reasons,
        detail=reason or message,
    )


def explain(exc: LawGridError, lang: str = "zh") -> str:
    """The error in words for a page or a terminal: each broken rule's reason in the language."""
    if isinstance(exc, Refused):
        return "；".join(v["reason"] for v in exc.payload(lang)["violations"])
    return exc.text(lang)
