"""The reference interpreter: simpleeval, narrowed to the formula language.

It evaluates a tree that `checker` accepted, but does not rely on that check for
safety: only the node types of the language have handlers, only our functions are
callable, names resolve only to data, and a deadline bounds the run. It also
records a trace of the values it computed, which `explain` turns into words.
Its results are the definition of what a formula means; the compiled fast path
is tested against it.
"""

from __future__ import annotations

import ast
import operator as op
import time
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial

from simpleeval import EvalWithCompoundTypes, InvalidExpression

from . import functions as fn
from .errors import FormulaRuntimeError, runtime_error

TIME_LIMIT_SECONDS = 0.5


def _add(a, b):
    if isinstance(a, str) and isinstance(b, str):
        return fn.concat(a, b)
    return fn.date_add(a, b)


OPERATORS = {
    ast.Add: _add,
    ast.Sub: fn.date_sub,
    ast.Mult: fn.multiply,
    ast.Div: fn.divide,
    ast.FloorDiv: fn.floor_divide,
    ast.Mod: fn.modulo,
    ast.Pow: fn.power,
    ast.Eq: op.eq,
    ast.NotEq: op.ne,
    ast.Gt: op.gt,
    ast.Lt: op.lt,
    ast.GtE: op.ge,
    ast.LtE: op.le,
    ast.In: lambda x, y: op.contains(y, x),
    ast.NotIn: lambda x, y: not op.contains(y, x),
    ast.Not: op.not_,
    ast.USub: op.neg,
    ast.UAdd: op.pos,
}

NULL_SAFE = {ast.Eq, ast.NotEq, ast.In, ast.NotIn}
NULL_SAFE_FUNCTIONS = {"present", "coalesce"}


class MemberNames(Mapping):
    """Names inside count/sum/any/all: the member's fields first, then the unit's."""

    def __init__(self, member: Mapping, member_names, outer: Mapping):
        self.member = member
        self.member_names = member_names
        self.outer = outer

    def __getitem__(self, key):
        if key in self.member_names:
            if not isinstance(self.member, Mapping):
                raise runtime_error("run_member_not_record")
            return self.member.get(key)
        return self.outer[key]

    def __iter__(self):
        return iter(set(self.member_names) | set(self.outer))

    def __len__(self):
        return len(set(self.member_names) | set(self.outer))


class Interpreter(EvalWithCompoundTypes):
    """simpleeval with only the nodes, operators and functions of the language."""

    ALLOWED_NODES = (
        ast.Expr, ast.Expression, ast.Name, ast.Constant, ast.UnaryOp, ast.BinOp, ast.BoolOp,
        ast.Compare, ast.IfExp, ast.Call, ast.Tuple, ast.List,
    )

    def __init__(self, names: Mapping, as_of: date, member_names=(), trace: list | None = None,
                 source: str = "", time_limit: float = TIME_LIMIT_SECONDS):
        funcs = {name: (partial(impl, as_of) if fn.SIGNATURES[name].needs_as_of else impl)
                 for name, impl in fn.IMPLEMENTATIONS.items()}
        super().__init__(operators=dict(OPERATORS), functions=funcs, names=names)
        # EvalWithCompoundTypes adds list/tuple/dict/set constructors: not part of the language.
        for extra in ("list", "tuple", "dict", "set"):
            self.functions.pop(extra, None)
        self.nodes = {k: v for k, v in self.nodes.items() if k in self.ALLOWED_NODES}
        self.nodes[ast.Expression] = lambda node: self._eval(node.body)
        self.member_names = frozenset(member_names)
        self.trace = trace
        self.source = source
        self.deadline = time.perf_counter() + time_limit
        self.in_members = 0

    # ---- guard rails ------------------------------------------------------------------

    def _eval(self, node):
        if time.perf_counter() > self.deadline:
            raise runtime_error("run_too_slow")
        value = super()._eval(node)
        if self.trace is not None and not self.in_members and isinstance(
            node, (ast.Name, ast.Call, ast.Compare, ast.BinOp, ast.BoolOp, ast.IfExp)
        ):
            self.trace.append((node, value))
        return value

    def segment(self, node) -> str:
        return (ast.get_source_segment(self.source, node) if self.source else None) or "a value"

    def _eval_name(self, node):
        # Names are data only: the record's values, then true/false. Unlike plain
        # simpleeval, a function name never reads as the function object itself.
        try:
            return self.names[node.id]
        except (KeyError, TypeError):
            pass
        if node.id in fn.BUILTIN_NAMES:
            return fn.BUILTIN_NAMES[node.id]
        raise runtime_error("run_unknown_name", name=str(node.id))

    def _eval_constant(self, node):
        value = super()._eval_constant(node)
        if not isinstance(value, (bool, int, float, str)):  # None, bytes, complex, ...
            raise runtime_error("run_literal_not_allowed", value=repr(value))
        if isinstance(value, float):
            return Decimal(repr(value))
        return value

    def _operator(self, op_node):
        try:
            return self.operators[type(op_node)]
        except KeyError:
            raise runtime_error("run_operator_not_allowed", op=type(op_node).__name__) from None

    def _eval_binop(self, node):
        operator = self._operator(node.op)
        left = self._eval(node.left)
        right = self._eval(node.right)
        for side, value in ((node.left, left), (node.right, right)):
            if value is None:
                raise runtime_error("run_name_no_value", name=self.segment(side))
        try:
            return operator(left, right)
        except (TypeError, ArithmeticError, InvalidOperation) as exc:
            if isinstance(exc, ZeroDivisionError):
                raise runtime_error("run_division_by_zero") from None
            raise runtime_error("run_cannot_compute", expr=self.segment(node)) from None

    def _eval_unaryop(self, node):
        operator = self._operator(node.op)
        value = self._eval(node.operand)
        if value is None and not isinstance(node.op, ast.Not):
            raise runtime_error("run_name_no_value", name=self.segment(node.operand))
        return operator(value)

    def _eval_compare(self, node):
        right = self._eval(node.left)
        right_node = node.left
        result = True
        for operation, comp in zip(node.ops, node.comparators, strict=False):
            if not result:
                break
            left, left_node = right, right_node
            operator = self._operator(operation)
            right, right_node = self._eval(comp), comp
            if type(operation) not in NULL_SAFE:
                for side, value in ((left_node, left), (right_node, right)):
                    if value is None:
                        raise runtime_error("run_name_no_value", name=self.segment(side))
            try:
                result = operator(left, right)
            except TypeError:
                raise runtime_error("run_cannot_compare", expr=self.segment(node)) from None
        return result

    def _eval_call(self, node):
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise runtime_error("run_only_functions")
        name = node.func.id
        if name in fn.AGGREGATES:
            return self._aggregate(node, name)
        func = self.functions.get(name)
        if func is None:
            raise runtime_error("run_unknown_function", name=str(name))
        args = [self._eval(a) for a in node.args]
        if name not in NULL_SAFE_FUNCTIONS:
            for arg_node, value in zip(node.args, args, strict=False):
                if value is None:
                    raise runtime_error("run_argument_no_value", expr=self.segment(arg_node), name=name)
        if name == "lookup" and not isinstance(args[0], dict):
            raise runtime_error("run_lookup_needs_table")
        return func(*args)

    def _aggregate(self, node, name):
        if not 1 <= len(node.args) <= 2 or (len(node.args) == 1 and name != "count"):
            raise runtime_error("run_aggregate_arguments", name=name)
        collection = self._eval(node.args[0]) or ()
        if len(node.args) == 1:
            return len(collection)
        outer = self.names
        values = []
        self.in_members += 1
        try:
            for member in collection:
                self.names = MemberNames(member, self.member_names, outer)
                values.append(self._eval(node.args[1]))
                if name == "any" and values[-1]:
                    break
                if name == "all" and not values[-1]:
                    break
        finally:
            self.names = outer
            self.in_members -= 1
        if name == "count":
            return sum(1 for v in values if v)
        if name == "any":
            return any(values)
        if name == "all":
            return all(values)
        total = 0
        for member_node_value in values:
            if member_node_value is None:
                raise runtime_error("run_member_no_value", expr=self.segment(node.args[1]))
            total += member_node_value
        return total


def interpret(tree: ast.Expression, names: Mapping, as_of: date, *, member_names=(),
              trace: list | None = None, source: str = ""):
    """Evaluate a checked tree with the reference interpreter."""
    evaluator = Interpreter(names, as_of, member_names, trace, source)
    try:
        return evaluator._eval(tree)
    except FormulaRuntimeError:
        raise
    except InvalidExpression as exc:  # simpleeval's own refusals: never a traceback
        raise runtime_error("run_refused", detail=str(exc)) from None
    except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        raise runtime_error("run_cannot_evaluate", detail=str(exc)) from None
