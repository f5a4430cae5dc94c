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
from .messages import MESSAGES, Said, say
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


# node type -> (code, English message, English hint, message key, hint key) (formulas/messages.py)
FORBIDDEN = {
    ast.Attribute: ("E402", "attribute access ('.{attr}') is not allowed in formulas",
                    "formulas only use declared names and functions", "attribute", "hint_declared_only"),
    ast.Subscript: ("E403", "indexing with [...] is not allowed in formulas",
                    "use lookup(table, key) to read a table", "indexing", "hint_lookup"),
    ast.Lambda: ("E404", "lambda is not allowed in formulas", "", "lambda", ""),
    ast.ListComp: ("E404", "comprehensions are not allowed in formulas",
                   "use count/sum/any/all over members", "comprehension", "hint_aggregates"),
    ast.SetComp: ("E404", "comprehensions are not allowed in formulas",
                  "use count/sum/any/all over members", "comprehension", "hint_aggregates"),
    ast.DictComp: ("E404", "comprehensions are not allowed in formulas",
                   "use count/sum/any/all over members", "comprehension", "hint_aggregates"),
    ast.GeneratorExp: ("E404", "generator expressions are not allowed in formulas",
                       "use count/sum/any/all over members", "generator", "hint_aggregates"),
    ast.JoinedStr: ("E405", "f-strings are not allowed in formulas", "", "fstring", ""),
    ast.NamedExpr: ("E406", "assignment (:=) is not allowed in formulas", "", "assignment", ""),
    ast.Dict: ("E407", "dictionaries are not allowed in formulas", "declare a table instead", "dictionary",
               "hint_declare_table"),
    ast.Set: ("E407", "sets are not allowed in formulas", "write a tuple: (\"a\", \"b\")", "set", "hint_tuple"),
    ast.Starred: ("E408", "star-arguments are not allowed in formulas", "", "star", ""),
    ast.Await: ("E401", "'await' is not allowed in formulas", "", "word_not_allowed", ""),
    ast.Yield: ("E401", "'yield' is not allowed in formulas", "", "word_not_allowed", ""),
    ast.YieldFrom: ("E401", "'yield' is not allowed in formulas", "", "word_not_allowed", ""),
}
FORBIDDEN_WORDS = {ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield"}

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


def suggestion(name: str, candidates) -> Said | None:
    """`suggest` as data, to be said in any language."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return say("hint_did_you_mean", name=close[0]) if close else None


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

    def error(self, node: ast.AST | None, code: str, message: str, hint: str = "", said: Said | None = None,
              hint_said: Said | None = None) -> FormulaError:
        line, col = 1, 0
        if node is not None and hasattr(node, "lineno"):
            line = node.lineno
            raw = self.lines[line - 1] if line - 1 < len(self.lines) else ""
            col = len(raw.encode("utf-8")[: node.col_offset].decode("utf-8", "ignore"))
            if line == 1:
                col -= 1
        return FormulaError(code, message, line=line, col=col, hint=hint, said=said, hint_said=hint_said)

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or "the value"

    # ---- entry ----------------------------------------------------------------------

    def check(self) -> CheckResult:
        text = self.text
        if not text.strip():
            raise FormulaError("E400", "the formula is empty", said=say("empty"))
        if len(text) > MAX_FORMULA_LENGTH:
            raise FormulaError("E409", f"the formula is longer than {MAX_FORMULA_LENGTH} characters",
                               hint="split it into computed fields", said=say("too_long", max=MAX_FORMULA_LENGTH),
                               hint_said=say("hint_split"))
        comment = find_comment(text)
        if comment is not None:
            line, col = comment
            raise FormulaError("E416", "a '#' comment inside a formula would silently drop what follows it",
                               line=line, col=col, hint="put the comment on its own line above, outside the formula",
                               said=say("comment"), hint_said=say("hint_comment_outside"))
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
            raise FormulaError("E400", f"syntax error: {msg}", line=line, col=col, hint=hint,
                               said=syntax_said(msg), hint_said=say("hint_compare_equals")) from None
        except (RecursionError, MemoryError, ValueError):
            raise FormulaError("E409", "the formula is too deeply nested", said=say("too_deep")) from None
        result_type = self.visit(tree.body, in_members=False, depth=0)
        return CheckResult(tree, result_type, self.names, self.member_names)

    # ---- walking --------------------------------------------------------------------

    def visit(self, node: ast.AST, in_members: bool, depth: int) -> T:
        if depth > MAX_DEPTH:
            raise self.error(node, "E409", "the formula is too deeply nested", said=say("too_deep"))
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            spec = FORBIDDEN.get(type(node))
            if spec:
                code, message, hint, key, hint_key = spec
                params = {"attr": node.attr} if key == "attribute" else {}
                if key == "word_not_allowed":
                    params = {"word": FORBIDDEN_WORDS[type(node)]}
                raise self.error(node, code, message.format(attr=getattr(node, "attr", "")), hint, say(key, **params),
                                 say(hint_key) if hint_key else None)
            raise self.error(node, "E401", f"'{type(node).__name__}' is not allowed in formulas",
                             said=say("word_not_allowed", word=type(node).__name__))
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
                raise self.error(node, "E409", f"text longer than {MAX_LITERAL_LENGTH} characters",
                                 said=say("literal_too_long", max=MAX_LITERAL_LENGTH))
            return T.TEXT
        raise self.error(node, "E401", f"the literal {value!r} is not allowed in formulas",
                         "use present(x) to test for an empty value" if value is None else "",
                         say("literal_not_allowed", value=repr(value)), say("hint_present"))

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
            raise self.error(node, "E411", f"'{name}' is a function", f"call it: {name}(...)",
                             say("is_function", name=name), say("hint_call_it", name=name))
        if not in_members and name in self.scope.member_names:
            raise self.error(node, "E412", f"'{name}' is a member field, only usable inside count/sum/any/all",
                             f"for example any(members, {name} ...)", say("member_field_outside", name=name),
                             say("hint_for_example_any", name=name))
        if name in ("True", "False"):
            return T.BOOL
        hint = suggest(name, self.scope.visible(in_members))
        hint_said = suggestion(name, self.scope.visible(in_members))
        if name.lower() in ("yes", "no", "on", "off", "y", "n"):
            hint = "write true or false: in definitions, yes/no/on/off are text, not yes/no values"
            hint_said = say("hint_yes_no")
        raise self.error(node, "E410", f"unknown name '{name}'", hint, say("unknown_name", name=name), hint_said)

    def visit_Tuple(self, node, in_members: bool, depth: int) -> T:
        return self._sequence(node, in_members, depth)

    def visit_List(self, node, in_members: bool, depth: int) -> T:
        return self._sequence(node, in_members, depth)

    def _sequence(self, node, in_members, depth) -> T:
        kinds = {self.visit(e, in_members, depth) for e in node.elts} - {T.ANY}
        if len(kinds) > 1:
            raise self.error(node, "E501", "a list mixes " + " and ".join(sorted(map(str, kinds))),
                             said=say("list_mixes", kinds=tuple(sorted(map(str, kinds)))))
        node.elem_type = kinds.pop() if kinds else T.ANY
        return T.LIST

    def visit_BoolOp(self, node: ast.BoolOp, in_members: bool, depth: int) -> T:
        word = "and" if isinstance(node.op, ast.And) else "or"
        for value in node.values:
            t = self.visit(value, in_members, depth)
            if t not in (T.BOOL, T.ANY):
                raise self.error(value, "E502", f"'{word}' needs yes/no conditions, but '{self.segment(value)}' is {article(t)}",
                                 "compare it, e.g. x > 0",
                                 say("needs_conditions", word=word, expr=self.segment(value), type=str(t)),
                                 say("hint_compare_x"))
        return T.BOOL

    def visit_UnaryOp(self, node: ast.UnaryOp, in_members: bool, depth: int) -> T:
        t = self.visit(node.operand, in_members, depth)
        if isinstance(node.op, ast.Not):
            if t not in (T.BOOL, T.ANY):
                raise self.error(node, "E502", f"'not' needs a yes/no condition, but '{self.segment(node.operand)}' is {article(t)}",
                                 said=say("not_needs_condition", expr=self.segment(node.operand), type=str(t)))
            return T.BOOL
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            if t not in (T.NUMBER, T.ANY):
                raise self.error(node, "E503", f"a sign needs a number, but '{self.segment(node.operand)}' is {article(t)}",
                                 said=say("sign_needs_number", expr=self.segment(node.operand), type=str(t)))
            return T.NUMBER
        raise self.error(node, "E401", "the operator '~' is not allowed in formulas",
                         said=say("operator_not_allowed", op="~"))

    def visit_BinOp(self, node: ast.BinOp, in_members: bool, depth: int) -> T:
        op = type(node.op)
        if op not in ALLOWED_BINOPS:
            raise self.error(node, "E401", f"the operator '{OPERATOR_WORDS.get(op, '?')}' is not allowed in formulas",
                             said=say("operator_not_allowed", op=OPERATOR_WORDS.get(op, "?")))
        left = self.visit(node.left, in_members, depth)
        right = self.visit(node.right, in_members, depth)
        sym = OPERATOR_WORDS[op]
        if op is ast.Pow:
            exponent, base = constant_number(node.right), constant_number(node.left)
            if exponent is not None and abs(exponent) > MAX_POWER_EXPONENT:
                raise self.error(node, "E409", f"the exponent {self.segment(node.right)} is too large",
                                 f"at most {MAX_POWER_EXPONENT}", say("exponent_too_large", expr=self.segment(node.right)),
                                 say("hint_at_most", max=MAX_POWER_EXPONENT))
            if base is not None and abs(base) > MAX_POWER_BASE:
                raise self.error(node, "E409", f"the base {self.segment(node.left)} of a power is too large",
                                 f"at most {MAX_POWER_BASE}", say("base_too_large", expr=self.segment(node.left)),
                                 say("hint_at_most", max=MAX_POWER_BASE))
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
        hint, hint_said = "", None
        if T.DATE in pair:
            hint = "dates take + or - a number of days; use age() or years_between() for years"
            hint_said = say("hint_dates_days")
        elif T.TEXT in pair:
            hint = "text can only be joined with + to other text"
            hint_said = say("hint_text_join")
        raise self.error(node, "E503", f"cannot compute {article(left)} {sym} {article(right)} "
                         f"('{self.segment(node)}')", hint,
                         say("cannot_compute", left=str(left), op=sym, right=str(right), expr=self.segment(node)),
                         hint_said)

    def visit_Compare(self, node: ast.Compare, in_members: bool, depth: int) -> T:
        left_node = node.left
        left = self.visit(left_node, in_members, depth)
        for op, right_node in zip(node.ops, node.comparators, strict=False):
            right = self.visit(right_node, in_members, depth)
            if isinstance(op, MEMBERSHIP):
                self._check_membership(node, left_node, left, right_node, right)
            elif isinstance(op, (ast.Is, ast.IsNot)):
                raise self.error(node, "E401", "'is' is not allowed in formulas", "use == or present(x)",
                                 say("word_not_allowed", word="is"), say("hint_is"))
            else:
                self._check_comparable(node, op, left_node, left, right_node, right)
                self._check_choice(left_node, right_node)
                self._check_choice(right_node, left_node)
            left_node, left = right_node, right
        return T.BOOL

    def _check_comparable(self, node, op, left_node, left, right_node, right) -> None:
        if T.ANY in (left, right) or left == right:
            if left == right and left in (T.BOOL, T.LIST, T.MEMBERS, T.TABLE, T.GPS) and isinstance(op, ORDERING):
                raise self.error(node, "E501", f"{article(left)} has no order; only == and != compare it",
                                 said=say("no_order", type=str(left)))
            return
        hint, hint_said = "", None
        if T.DATE in (left, right) and T.NUMBER in (left, right):
            hint = "turn the date into a number with age(), years_between() or days_between()"
            hint_said = say("hint_date_to_number")
        elif T.TEXT in (left, right) and T.NUMBER in (left, right):
            hint = "write the number without quotes, or the text in quotes"
            hint_said = say("hint_quotes")
        raise self.error(node, "E501",
                         f"cannot compare {article(left)} with {article(right)} "
                         f"('{self.segment(left_node)}' and '{self.segment(right_node)}')", hint,
                         say("cannot_compare", left=str(left), right=str(right), left_expr=self.segment(left_node),
                             right_expr=self.segment(right_node)), hint_said)

    def _check_membership(self, node, left_node, left, right_node, right) -> None:
        if right not in (T.LIST, T.ANY):
            if right == T.TEXT and left == T.TEXT:
                return  # substring test: "x" in text
            raise self.error(right_node, "E501",
                             f"'in' needs a list on its right, but '{self.segment(right_node)}' is {article(right)}",
                             'write a tuple: ("a", "b")',
                             say("in_needs_list", expr=self.segment(right_node), type=str(right)), say("hint_tuple"))
        elem = getattr(right_node, "elem_type", T.ANY)
        if elem != T.ANY and left != T.ANY and elem != left:
            raise self.error(node, "E501", f"'{self.segment(left_node)}' is {article(left)} but the list holds {elem} values",
                             said=say("list_holds", expr=self.segment(left_node), type=str(left), elem=str(elem)))
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
                hint_said = suggestion(v.value, allowed) or say("hint_choices", choices=", ".join(sorted(allowed)[:12]))
                raise self.error(v, "E310", f"'{v.value}' is not a choice of '{name_node.id}'", hint,
                                 say("not_a_choice", value=v.value, name=name_node.id), hint_said)

    def visit_IfExp(self, node: ast.IfExp, in_members: bool, depth: int) -> T:
        test = self.visit(node.test, in_members, depth)
        if test not in (T.BOOL, T.ANY):
            raise self.error(node.test, "E502", f"the condition after 'if' must be yes/no, but '{self.segment(node.test)}' is {article(test)}",
                             said=say("if_condition", expr=self.segment(node.test), type=str(test)))
        body = self.visit(node.body, in_members, depth)
        orelse = self.visit(node.orelse, in_members, depth)
        if T.ANY in (body, orelse):
            return orelse if body is T.ANY else body
        if body != orelse:
            raise self.error(node, "E501", f"the two branches of 'if ... else' differ: {article(body)} and {article(orelse)}",
                             said=say("branches_differ", body=str(body), orelse=str(orelse)))
        return body

    def visit_Call(self, node: ast.Call, in_members: bool, depth: int) -> T:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                raise self.error(node.func, "E402", f"attribute access ('.{node.func.attr}') is not allowed in formulas",
                                 "formulas only use declared names and functions", say("attribute", attr=node.func.attr),
                                 say("hint_declared_only"))
            raise self.error(node, "E413", "only named functions can be called", said=say("only_named_functions"))
        name = node.func.id
        sig = SIGNATURES.get(name)
        if sig is None:
            hint, hint_said = suggest(name, SIGNATURES), suggestion(name, SIGNATURES)
            if not hint and name in self.scope.names:
                hint, hint_said = f"'{name}' is a value, not a function", say("hint_is_value", name=name)
            raise self.error(node, "E413", f"unknown function '{name}'", hint or "see the function list in docs/definition-reference.md",
                             say("unknown_function", name=name), hint_said or say("hint_function_list"))
        if node.keywords:
            raise self.error(node, "E414", f"{name}() takes no named arguments", said=say("no_named_arguments", name=name))
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.error(arg, "E408", "star-arguments are not allowed in formulas", said=say("star"))
        n = len(node.args)
        if name in AGGREGATES:
            return self._aggregate(node, name, sig, in_members, depth)
        if sig.variadic:
            if n < 2:
                raise self.error(node, "E414", f"{name}() needs at least two values", said=say("at_least_two", name=name))
            expected = [sig.args[0]] * n
        else:
            lo, hi = len(sig.args), len(sig.args) + len(sig.optional)
            if not lo <= n <= hi:
                want = str(lo) if lo == hi else f"{lo} to {hi}"
                key = ("takes_exact" if lo == hi else "takes_range") + ("_one" if hi == 1 else "")
                raise self.error(node, "E414", f"{name}() takes {want} argument{'s' if hi != 1 else ''}, got {n}",
                                 said=say(key, name=name, lo=lo, hi=hi, n=n))
            expected = list(sig.args + sig.optional)[:n]
        kinds = []
        for arg, want in zip(node.args, expected, strict=False):
            got = self.visit(arg, in_members, depth)
            kinds.append(got)
            if want != T.ANY and got not in (want, T.ANY):
                hint = "write dates as date(\"2025-01-31\")" if want == T.DATE and got == T.TEXT else ""
                raise self.error(arg, "E504", f"{name}() needs {article(want)}, but '{self.segment(arg)}' is {article(got)}", hint,
                                 say("needs_type", name=name, want=str(want), expr=self.segment(arg), got=str(got)),
                                 say("hint_date_literal"))
        if name == "date" and isinstance(node.args[0], ast.Constant):
            from datetime import date

            try:
                date.fromisoformat(node.args[0].value)
            except (TypeError, ValueError):
                raise self.error(node.args[0], "E505", f"'{node.args[0].value}' is not a date", "write YYYY-MM-DD",
                                 say("not_a_date", value=node.args[0].value), say("hint_yyyy")) from None
        if name == "coalesce":
            return kinds[0] if kinds[0] != T.ANY else kinds[1]
        return sig.returns

    def _aggregate(self, node: ast.Call, name: str, sig, in_members: bool, depth: int) -> T:
        args = node.args
        nested = self.error(node, "E415", f"{name}() cannot be nested inside another count/sum/any/all",
                            said=say("nested_aggregate", name=name))
        if in_members and not (name == "count" and len(args) == 1):
            raise nested
        if name == "count" and len(args) == 1:
            t = self.visit(args[0], in_members, depth)
            if in_members and t == T.MEMBERS:
                raise nested
            if t not in (T.MEMBERS, T.LIST, T.ANY):
                raise self.error(args[0], "E504", f"count() needs members or a list, but '{self.segment(args[0])}' is {article(t)}",
                                 said=say("count_needs", expr=self.segment(args[0]), type=str(t)))
            return T.NUMBER
        if len(args) != 2:
            raise self.error(node, "E414", f"{name}() takes the members and a condition, e.g. {name}(members, age(dob) >= 18)"
                             if name != "sum" else "sum() takes the members and a number, e.g. sum(members, income)",
                             said=say("aggregate_arguments", name=name) if name != "sum" else say("sum_arguments"))
        t = self.visit(args[0], in_members, depth)
        if t not in (T.MEMBERS, T.ANY):
            raise self.error(args[0], "E504", f"{name}() works over members, but '{self.segment(args[0])}' is {article(t)}",
                             said=say("over_members", name=name, expr=self.segment(args[0]), type=str(t)))
        inner = self.visit(args[1], True, depth)
        want = sig.args[1] if len(sig.args) > 1 else sig.optional[0]
        if inner not in (want, T.ANY):
            raise self.error(args[1], "E504", f"{name}() needs {article(want)} for each member, but '{self.segment(args[1])}' is {article(inner)}",
                             said=say("for_each_member", name=name, want=str(want), expr=self.segment(args[1]),
                                      got=str(inner)))
        return sig.returns


def syntax_said(msg: str) -> Said:
    """The checker's "syntax error: ..." as data (Python's own wording only when not one we know)."""
    import re

    if msg == "invalid syntax":
        return say("syntax_invalid")
    if msg == "unbalanced parentheses":
        return say("syntax_unbalanced")
    if msg == "invalid decimal literal":
        return say("syntax_decimal")
    if msg == MESSAGES["syntax_leading_zero"]["en"].removeprefix("syntax error: "):
        return say("syntax_leading_zero")
    m = re.fullmatch(r"unterminated string literal \(detected at line (\d+)\)", msg)
    if m:
        return say("syntax_unterminated", line=m.group(1))
    return say("syntax_other", detail=msg)


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
