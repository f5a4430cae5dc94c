"""Static checking of a formula: the allow-list of constructs, names and types.

A formula is parsed with Python's `ast` (it uses Python's expression syntax,
which simpleeval also uses), then walked once here. Anything outside the
allow-list - attributes, subscripts, lambdas, comprehensions, f-strings, keyword
arguments, unknown functions - is refused with a precise position. Every node is
annotated with its static type (`node.os_type`) for the compiler, which only ever
sees trees that passed this check.
"""

from __future__ import annotations

import ast
import difflib
import io
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import FormulaError, FormulaRuntimeError
from .functions import (
    AGGREGATES,
    BUILTIN_NAMES,
    MAX_POWER_BASE,
    MAX_POWER_EXPONENT,
    SIGNATURES,
    power,
)
from .types import T, article

MAX_FORMULA_LENGTH = 4000
MAX_LITERAL_LENGTH = 1000
MAX_DEPTH = 60


@dataclass(frozen=True)
class Scope:
    """What a formula may refer to, and the type of each name."""

    names: Mapping[str, T]
    member_names: Mapping[str, T] = field(default_factory=dict)
    constants: Mapping[str, object] = field(default_factory=dict)
    choices: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def visible(self, in_members: bool) -> list[str]:
        names = list(self.names) + list(BUILTIN_NAMES)
        if in_members:
            names += list(self.member_names)
        return names


@dataclass
class CheckResult:
    tree: ast.Expression
    result_type: T
    names: set[str]  # top-level names read
    member_names: set[str]  # member fields read inside aggregates


FORBIDDEN = {
    ast.Attribute: ("E402", "attribute access ('.{attr}') is not allowed in formulas",
                    "formulas only use declared names and functions"),
    ast.Subscript: ("E403", "indexing with [...] is not allowed in formulas",
                    "use lookup(table, key) to read a table"),
    ast.Lambda: ("E404", "lambda is not allowed in formulas", ""),
    ast.ListComp: ("E404", "comprehensions are not allowed in formulas",
                   "use count/sum/any/all over members"),
    ast.SetComp: ("E404", "comprehensions are not allowed in formulas",
                  "use count/sum/any/all over members"),
    ast.DictComp: ("E404", "comprehensions are not allowed in formulas",
                   "use count/sum/any/all over members"),
    ast.GeneratorExp: ("E404", "generator expressions are not allowed in formulas",
                       "use count/sum/any/all over members"),
    ast.JoinedStr: ("E405", "f-strings are not allowed in formulas", ""),
    ast.NamedExpr: ("E406", "assignment (:=) is not allowed in formulas", ""),
    ast.Dict: ("E407", "dictionaries are not allowed in formulas", "declare a table instead"),
    ast.Set: ("E407", "sets are not allowed in formulas", "write a tuple: (\"a\", \"b\")"),
    ast.Starred: ("E408", "star-arguments are not allowed in formulas", ""),
    ast.Await: ("E401", "'await' is not allowed in formulas", ""),
    ast.Yield: ("E401", "'yield' is not allowed in formulas", ""),
    ast.YieldFrom: ("E401", "'yield' is not allowed in formulas", ""),
}

OPERATOR_WORDS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
    ast.Mod: "%", ast.Pow: "**", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|",
    ast.BitAnd: "&", ast.BitXor: "^", ast.MatMult: "@",
}
ALLOWED_BINOPS = {ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow}
ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
EQUALITY = (ast.Eq, ast.NotEq)
MEMBERSHIP = (ast.In, ast.NotIn)


def suggest(name: str, candidates) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def unmatched_close(text: str) -> tuple[int, int] | None:
    """(line, col) of the first closing bracket that has no opening one.

    A stray ")" closes the "(" the checker wraps the formula in, so Python reports the
    error at the wrapper's own ")"; this finds the user's.
    """
    depth = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.OP and token.string in "([{":
                depth += 1
            elif token.type == tokenize.OP and token.string in ")]}":
                depth -= 1
                if depth < 0:
                    return token.start
    except (tokenize.TokenError, SyntaxError):
        return None
    return None


def constant_number(node: ast.AST):
    """The value of a number written with literals only (2, -3, 9 ** 9), else None.

    Lets the checker refuse `9 ** 9 ** 9` or `10 ** -1000` at load time, not only `10 ** 1000`.
    """
    if isinstance(node, ast.Constant):
        value = node.value
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = constant_number(node.operand)
        return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        base, exponent = constant_number(node.left), constant_number(node.right)
        if base is None or exponent is None:
            return None
        try:
            return power(base, exponent)  # bounded: refuses what would be too large
        except (FormulaRuntimeError, ArithmeticError, TypeError, ValueError):
            return None
    return None


class Checker:
    def __init__(self, text: str, scope: Scope):
        self.text = text
        # Parsed inside parentheses so a formula may span several lines (YAML block scalars);
        # columns on the first line are shifted back by the added "(".
        self.source = "(" + text + "\n)"
        self.lines = self.source.split("\n")
        self.scope = scope
        self.names: set[str] = set()
        self.member_names: set[str] = set()

    # ---- positions ------------------------------------------------------------------

    def error(self, node: ast.AST | None, code: str, message: str, hint: str = "") -> FormulaError:
        line, col = 1, 0
        if node is not None and hasattr(node, "lineno"):
            line = node.lineno
            raw = self.lines[line - 1] if line - 1 < len(self.lines) else ""
            col = len(raw.encode("utf-8")[: node.col_offset].decode("utf-8", "ignore"))
            if line == 1:
                col -= 1
        return FormulaError(code, message, line=line, col=col, hint=hint)

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or "the value"

    # ---- entry ----------------------------------------------------------------------

    def check(self) -> CheckResult:
        text = self.text
        if not text.strip():
            raise FormulaError("E400", "the formula is empty")
        if len(text) > MAX_FORMULA_LENGTH:
            raise FormulaError("E409", f"the formula is longer than {MAX_FORMULA_LENGTH} characters",
                               hint="split it into computed fields")
        comment = find_comment(text)
        if comment is not None:
            line, col = comment
            raise FormulaError("E416", "a '#' comment inside a formula would silently drop what follows it",
                               line=line, col=col, hint="put the comment on its own line above, outside the formula")
        try:
            tree = ast.parse(self.source, mode="eval")
        except SyntaxError as exc:
            line = exc.lineno or 1
            col = max((exc.offset or 1) - 1 - (1 if line == 1 else 0), 0)
            if line > len(text.split("\n")):  # the error is at the closing ")" we added
                line, col = unmatched_close(text) or (len(text.split("\n")), len(text.split("\n")[-1]))
            msg = exc.msg or "invalid syntax"
            if msg.startswith("invalid syntax"):
                msg = "invalid syntax"
            elif "never closed" in msg or "does not match" in msg or "unmatched" in msg:
                msg = "unbalanced parentheses"
            hint = ""
            if "=" in text and "==" not in text and msg == "invalid syntax":
                hint = "compare with '==', not '='"
            raise FormulaError("E400", f"syntax error: {msg}", line=line, col=col, hint=hint) from None
        except (RecursionError, MemoryError, ValueError):
            raise FormulaError("E409", "the formula is too deeply nested") from None
        result_type = self.visit(tree.body, in_members=False, depth=0)
        return CheckResult(tree, result_type, self.names, self.member_names)

    # ---- walking --------------------------------------------------------------------

    def visit(self, node: ast.AST, in_members: bool, depth: int) -> T:
        if depth > MAX_DEPTH:
            raise self.error(node, "E409", "the formula is too deeply nested")
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            spec = FORBIDDEN.get(type(node))
            if spec:
                code, message, hint = spec
                raise self.error(node, code, message.format(attr=getattr(node, "attr", "")), hint)
            raise self.error(node, "E401", f"'{type(node).__name__}' is not allowed in formulas")
        result = method(node, in_members, depth + 1)
        node.os_type = result
        return result

    def visit_Constant(self, node: ast.Constant, in_members: bool, depth: int) -> T:
        value = node.value
        if isinstance(value, bool):
            return T.BOOL
        if isinstance(value, (int, float)):
            return T.NUMBER
        if isinstance(value, str):
            if len(value) > MAX_LITERAL_LENGTH:
                raise self.error(node, "E409", f"text longer than {MAX_LITERAL_LENGTH} characters")
            return T.TEXT
        raise self.error(node, "E401", f"the literal {value!r} is not allowed in formulas",
                         "use present(x) to test for an empty value" if value is None else "")

    def visit_Name(self, node: ast.Name, in_members: bool, depth: int) -> T:
        name = node.id
        if in_members and name in self.scope.member_names:
            self.member_names.add(name)
            return self.scope.member_names[name]
        if name in self.scope.names:
            self.names.add(name)
            return self.scope.names[name]
        if name in BUILTIN_NAMES:
            return T.BOOL
        if name in SIGNATURES:
            raise self.error(node, "E411", f"'{name}' is a function", f"call it: {name}(...)")
        if not in_members and name in self.scope.member_names:
            raise self.error(node, "E412", f"'{name}' is a member field, only usable inside count/sum/any/all",
                             f"for example any(members, {name} ...)")
        if name in ("True", "False"):
            return T.BOOL
        hint = suggest(name, self.scope.visible(in_members))
        if name.lower() in ("yes", "no", "on", "off", "y", "n"):
            hint = "write true or false: in definitions, yes/no/on/off are text, not yes/no values"
        raise self.error(node, "E410", f"unknown name '{name}'", hint)

    def visit_Tuple(self, node, in_members: bool, depth: int) -> T:
        return self._sequence(node, in_members, depth)

    def visit_List(self, node, in_members: bool, depth: int) -> T:
        return self._sequence(node, in_members, depth)

    def _sequence(self, node, in_members, depth) -> T:
        kinds = {self.visit(e, in_members, depth) for e in node.elts} - {T.ANY}
        if len(kinds) > 1:
            raise self.error(node, "E501", "a list mixes " + " and ".join(sorted(map(str, kinds))))
        node.elem_type = kinds.pop() if kinds else T.ANY
        return T.LIST

    def visit_BoolOp(self, node: ast.BoolOp, in_members: bool, depth: int) -> T:
        word = "and" if isinstance(node.op, ast.And) else "or"
        for value in node.values:
            t = self.visit(value, in_members, depth)
            if t not in (T.BOOL, T.ANY):
                raise self.error(value, "E502", f"'{word}' needs yes/no conditions, but '{self.segment(value)}' is {article(t)}",
                                 "compare it, e.g. x > 0")
        return T.BOOL

    def visit_UnaryOp(self, node: ast.UnaryOp, in_members: bool, depth: int) -> T:
        t = self.visit(node.operand, in_members, depth)
        if isinstance(node.op, ast.Not):
            if t not in (T.BOOL, T.ANY):
                raise self.error(node, "E502", f"'not' needs a yes/no condition, but '{self.segment(node.operand)}' is {article(t)}")
            return T.BOOL
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            if t not in (T.NUMBER, T.ANY):
                raise self.error(node, "E503", f"a sign needs a number, but '{self.segment(node.operand)}' is {article(t)}")
            return T.NUMBER
        raise self.error(node, "E401", "the operator '~' is not allowed in formulas")

    def visit_BinOp(self, node: ast.BinOp, in_members: bool, depth: int) -> T:
        op = type(node.op)
        if op not in ALLOWED_BINOPS:
            raise self.error(node, "E401", f"the operator '{OPERATOR_WORDS.get(op, '?')}' is not allowed in formulas")
        left = self.visit(node.left, in_members, depth)
        right = self.visit(node.right, in_members, depth)
        sym = OPERATOR_WORDS[op]
        if op is ast.Pow:
            exponent, base = constant_number(node.right), constant_number(node.left)
            if exponent is not None and abs(exponent) > MAX_POWER_EXPONENT:
                raise self.error(node, "E409", f"the exponent {self.segment(node.right)} is too large",
                                 f"at most {MAX_POWER_EXPONENT}")
            if base is not None and abs(base) > MAX_POWER_BASE:
                raise self.error(node, "E409", f"the base {self.segment(node.left)} of a power is too large",
                                 f"at most {MAX_POWER_BASE}")
        pair = (left, right)
        if T.ANY in pair:
            other = right if left is T.ANY else left
            if other in (T.NUMBER, T.DATE, T.TEXT, T.ANY):
                return T.ANY if op in (ast.Add, ast.Sub) else T.NUMBER
        if pair == (T.NUMBER, T.NUMBER):
            return T.NUMBER
        if op is ast.Add:
            if pair in ((T.DATE, T.NUMBER), (T.NUMBER, T.DATE)):
                return T.DATE
            if pair == (T.TEXT, T.TEXT):
                return T.TEXT
        if op is ast.Sub:
            if pair == (T.DATE, T.NUMBER):
                return T.DATE
            if pair == (T.DATE, T.DATE):
                return T.NUMBER
        hint = ""
        if T.DATE in pair:
            hint = "dates take + or - a number of days; use age() or years_between() for years"
        elif T.TEXT in pair:
            hint = "text can only be joined with + to other text"
        raise self.error(node, "E503", f"cannot compute {article(left)} {sym} {article(right)} "
                         f"('{self.segment(node)}')", hint)

    def visit_Compare(self, node: ast.Compare, in_members: bool, depth: int) -> T:
        left_node = node.left
        left = self.visit(left_node, in_members, depth)
        for op, right_node in zip(node.ops, node.comparators, strict=False):
            right = self.visit(right_node, in_members, depth)
            if isinstance(op, MEMBERSHIP):
                self._check_membership(node, left_node, left, right_node, right)
            elif isinstance(op, (ast.Is, ast.IsNot)):
                raise self.error(node, "E401", "'is' is not allowed in formulas", "use == or present(x)")
            else:
                self._check_comparable(node, op, left_node, left, right_node, right)
                self._check_choice(left_node, right_node)
                self._check_choice(right_node, left_node)
            left_node, left = right_node, right
        return T.BOOL

    def _check_comparable(self, node, op, left_node, left, right_node, right) -> None:
        if T.ANY in (left, right) or left == right:
            if left == right and left in (T.BOOL, T.LIST, T.MEMBERS, T.TABLE, T.GPS) and isinstance(op, ORDERING):
                raise self.error(node, "E501", f"{article(left)} has no order; only == and != compare it")
            return
        hint = ""
        if T.DATE in (left, right) and T.NUMBER in (left, right):
            hint = "turn the date into a number with age(), years_between() or days_between()"
        elif T.TEXT in (left, right) and T.NUMBER in (left, right):
            hint = "write the number without quotes, or the text in quotes"
        raise self.error(node, "E501",
                         f"cannot compare {article(left)} with {article(right)} "
                         f"('{self.segment(left_node)}' and '{self.segment(right_node)}')", hint)

    def _check_membership(self, node, left_node, left, right_node, right) -> None:
        if right not in (T.LIST, T.ANY):
            if right == T.TEXT and left == T.TEXT:
                return  # substring test: "x" in text
            raise self.error(right_node, "E501",
                             f"'in' needs a list on its right, but '{self.segment(right_node)}' is {article(right)}",
                             'write a tuple: ("a", "b")')
        elem = getattr(right_node, "elem_type", T.ANY)
        if elem != T.ANY and left != T.ANY and elem != left:
            raise self.error(node, "E501", f"'{self.segment(left_node)}' is {article(left)} but the list holds {elem} values")
        self._check_choice(left_node, right_node)
        # "value" in select_multiple_field
        if isinstance(right_node, ast.Name) and isinstance(left_node, ast.Constant):
            self._check_choice(right_node, left_node)

    def _check_choice(self, name_node, value_node) -> None:
        """A select field compared with a literal: the literal must be one of its choices."""
        if not isinstance(name_node, ast.Name):
            return
        allowed = self.scope.choices.get(name_node.id)
        if not allowed:
            return
        if isinstance(value_node, ast.Constant):
            values = [value_node]
        elif isinstance(value_node, (ast.Tuple, ast.List)):
            values = [e for e in value_node.elts if isinstance(e, ast.Constant)]
        else:
            return
        for v in values:
            if isinstance(v.value, str) and v.value not in allowed:
                hint = suggest(v.value, allowed) or "choices: " + ", ".join(sorted(allowed)[:12])
                raise self.error(v, "E310", f"'{v.value}' is not a choice of '{name_node.id}'", hint)

    def visit_IfExp(self, node: ast.IfExp, in_members: bool, depth: int) -> T:
        test = self.visit(node.test, in_members, depth)
        if test not in (T.BOOL, T.ANY):
            raise self.error(node.test, "E502", f"the condition after 'if' must be yes/no, but '{self.segment(node.test)}' is {article(test)}")
        body = self.visit(node.body, in_members, depth)
        orelse = self.visit(node.orelse, in_members, depth)
        if T.ANY in (body, orelse):
            return orelse if body is T.ANY else body
        if body != orelse:
            raise self.error(node, "E501", f"the two branches of 'if ... else' differ: {article(body)} and {article(orelse)}")
        return body

    def visit_Call(self, node: ast.Call, in_members: bool, depth: int) -> T:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                raise self.error(node.func, "E402", f"attribute access ('.{node.func.attr}') is not allowed in formulas",
                                 "formulas only use declared names and functions")
            raise self.error(node, "E413", "only named functions can be called")
        name = node.func.id
        sig = SIGNATURES.get(name)
        if sig is None:
            hint = suggest(name, SIGNATURES)
            if not hint and name in self.scope.names:
                hint = f"'{name}' is a value, not a function"
            raise self.error(node, "E413", f"unknown function '{name}'", hint or "see the function list in docs/definition-reference.md")
        if node.keywords:
            raise self.error(node, "E414", f"{name}() takes no named arguments")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.error(arg, "E408", "star-arguments are not allowed in formulas")
        n = len(node.args)
        if name in AGGREGATES:
            return self._aggregate(node, name, sig, in_members, depth)
        if sig.variadic:
            if n < 2:
                raise self.error(node, "E414", f"{name}() needs at least two values")
            expected = [sig.args[0]] * n
        else:
            lo, hi = len(sig.args), len(sig.args) + len(sig.optional)
            if not lo <= n <= hi:
                want = str(lo) if lo == hi else f"{lo} to {hi}"
                raise self.error(node, "E414", f"{name}() takes {want} argument{'s' if hi != 1 else ''}, got {n}")
            expected = list(sig.args + sig.optional)[:n]
        kinds = []
        for arg, want in zip(node.args, expected, strict=False):
            got = self.visit(arg, in_members, depth)
            kinds.append(got)
            if want != T.ANY and got not in (want, T.ANY):
                hint = "write dates as date(\"2025-01-31\")" if want == T.DATE and got == T.TEXT else ""
                raise self.error(arg, "E504", f"{name}() needs {article(want)}, but '{self.segment(arg)}' is {article(got)}", hint)
        if name == "date" and isinstance(node.args[0], ast.Constant):
            from datetime import date

            try:
                date.fromisoformat(node.args[0].value)
            except (TypeError, ValueError):
                raise self.error(node.args[0], "E505", f"'{node.args[0].value}' is not a date", "write YYYY-MM-DD") from None
        if name == "coalesce":
            return kinds[0] if kinds[0] != T.ANY else kinds[1]
        return sig.returns

    def _aggregate(self, node: ast.Call, name: str, sig, in_members: bool, depth: int) -> T:
        args = node.args
        nested = self.error(node, "E415", f"{name}() cannot be nested inside another count/sum/any/all")
        if in_members and not (name == "count" and len(args) == 1):
            raise nested
        if name == "count" and len(args) == 1:
            t = self.visit(args[0], in_members, depth)
            if in_members and t == T.MEMBERS:
                raise nested
            if t not in (T.MEMBERS, T.LIST, T.ANY):
                raise self.error(args[0], "E504", f"count() needs members or a list, but '{self.segment(args[0])}' is {article(t)}")
            return T.NUMBER
        if len(args) != 2:
            raise self.error(node, "E414", f"{name}() takes the members and a condition, e.g. {name}(members, age(dob) >= 18)"
                             if name != "sum" else "sum() takes the members and a number, e.g. sum(members, income)")
        t = self.visit(args[0], in_members, depth)
        if t not in (T.MEMBERS, T.ANY):
            raise self.error(args[0], "E504", f"{name}() works over members, but '{self.segment(args[0])}' is {article(t)}")
        inner = self.visit(args[1], True, depth)
        want = sig.args[1] if len(sig.args) > 1 else sig.optional[0]
        if inner not in (want, T.ANY):
            raise self.error(args[1], "E504", f"{name}() needs {article(want)} for each member, but '{self.segment(args[1])}' is {article(inner)}")
        return sig.returns


def find_comment(text: str) -> tuple[int, int] | None:
    """(line, col) of a Python comment in the formula, if any (a '#' inside quotes is text)."""
    import io
    import tokenize

    if "#" not in text:
        return None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                return tok.start[0], tok.start[1]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    return None


def check(text: str, scope: Scope) -> CheckResult:
    return Checker(text, scope).check()
