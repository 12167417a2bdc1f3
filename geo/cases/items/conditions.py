"""The discretion conditions of an item: a small, safe expression language (names, numbers,
comparisons, and/or/not), parsed once and evaluated against the case's circumstances."""

from __future__ import annotations

import ast
import operator
from decimal import Decimal
from typing import Any

# -- the conditions of a level: a tiny, safe expression language -------------------------------
_ALLOWED = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.Compare,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.Eq,
    ast.NotEq,
    ast.Name,
    ast.Load,
    ast.Constant,
)


_OPS: dict[type, Any] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


def parse_condition(expr: str) -> ast.Expression:
    """`turnover_yuan < 100000 and not harm`: comparisons, and/or/not, names and numbers only."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"condition {expr!r} does not parse: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED) or (
            isinstance(node, ast.Constant) and not isinstance(node.value, int | float | bool)
        ):
            raise ValueError(f"condition {expr!r}: {type(node).__name__} is not allowed")
    return tree


def condition_names(expr: str) -> set[str]:
    return {n.id for n in ast.walk(parse_condition(expr)) if isinstance(n, ast.Name)}


def evaluate(expr: str, values: dict[str, Any]) -> bool | None:
    """True/False, or None when a factor it names was not recorded."""
    if condition_names(expr) - set(values):
        return None
    return bool(_eval(parse_condition(expr).body, values))


def _eval(node: ast.AST, values: dict[str, Any]) -> Any:
    if isinstance(node, ast.BoolOp):
        results = [_eval(v, values) for v in node.values]
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.UnaryOp):
        return not _eval(node.operand, values)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, values)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, values)
            ok = _OPS[type(op)](left, right)
            if not ok:
                return False
            left = right
        return True
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.Constant):
        return Decimal(str(node.value)) if isinstance(node.value, int | float) else node.value
    raise ValueError(f"{type(node).__name__} is not allowed")
