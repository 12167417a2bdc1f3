"""Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters whose last
is a check character computed from the first 17."""

from __future__ import annotations

import numpy as np

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
VALUE = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    total = sum(VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def credit_code_error(code: object) -> str | None:
    """None when code is a well-formed credit code, else why it is not."""
    if not isinstance(code, str) or len(code) != 18:
        return "credit code must be 18 characters"
    bad = [c for c in code if c not in VALUE]
    if bad:
        return f"credit code has characters outside GB 32100: {''.join(bad)!r}"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"credit code check character is {code[17]!r}, expected {expected!r}"
    return None


def is_valid(code: object) -> bool:
    return credit_code_error(code) is None


def make_codes(serials: np.ndarray, admin_code: str = "120116") -> list[str]:
    """Vectorised: distinct, valid codes for distinct non-negative serial numbers.

    Layout: registration authority 9 (工商), entity type 1 (enterprise), the 6-digit
    admin code, then 9 characters spelling the serial in base 31, then the check.
    """
    serials = np.asarray(serials, dtype=np.int64)
    prefix = "91" + admin_code
    digits = np.empty((serials.size, 9), dtype=np.int64)
    rest = serials.copy()
    for pos in range(8, -1, -1):
        digits[:, pos] = rest % 31
        rest //= 31
    prefix_values = np.array([VALUE[c] for c in prefix], dtype=np.int64)
    weights = np.array(WEIGHTS, dtype=np.int64)
    total = (prefix_values * weights[:8]).sum() + digits @ weights[8:]
    check = (31 - total % 31) % 31
    alphabet = np.array(list(ALPHABET))
    body = alphabet[digits]
    chars = np.concatenate([body, alphabet[check][:, None]], axis=1)
    return [prefix + "".join(row) for row in chars]
