"""Form classes built at run time from a compiled scheme, cached per version.

A scheme declares its fields once; the registration form, the edit form and the
phone-sized quick form are WTForms classes made here with `type()`, one field per
declaration (`fields.FIELD_CLASSES`). Labels, hints and choice labels are in the
user's language when the scheme declares it, else in the scheme's first language.
Classes are cached by (content hash, language, variant): a changed definition is a
new hash, so a stale form is never served; the cache is bounded.

Location options come from the database and the user's area, so they are set on
each form *instance* (`forms.locations`), never cached in the class.
"""

from __future__ import annotations

from threading import Lock

from wtforms import Form
from wtforms.fields import FieldList, FormField

from ..definitions.model import Field, Scheme
from .fields import FIELD_CLASSES, MemberIdField, RolesField, option

VARIANTS = ("full", "quick")
ATTR = "f_"  # form attribute of a declared field: f_<name> (see fields.Declared)
ROLES_ATTR = "os_roles"
MEMBER_ATTR = "os_member"  # the stored member a row shows (posted as members-<i>-_member; empty: a new one)
_cache: dict[tuple, type] = {}
_lock = Lock()
MAX_CACHED = 256


def form_language(scheme: Scheme, lang: str | None) -> str:
    """The user's language if the scheme speaks it, else the scheme's first language."""
    if lang:
        for candidate in (lang, lang.split("_")[0]):
            if candidate in scheme.languages:
                return candidate
    return scheme.default_language


def safe_template(name: str | None) -> str | None:
    """A scheme's `template:` as a path under form_templates/ (no '..', no absolute path)."""
    if not name:
        return None
    name = name.strip().replace("\\", "/")
    if name.startswith("/") or ".." in name.split("/"):
        return None
    if "/" not in name:
        name = f"widgets/{name}"
    return name if name.endswith(".html") else name + ".html"


def field_templates(scheme: Scheme, f: Field) -> list[str]:
    """Templates that may render a field, first existing wins (form_templates/README.md)."""
    names = [safe_template(f.template), f"schemes/{scheme.code}/{f.name}.html"]
    if f.widget:
        names.append(f"widgets/{f.widget}.html")
    names += [f"widgets/{f.type}.html", "widgets/text.html"]
    return [n for n in names if n]


def quick_fields(scheme: Scheme) -> set[str]:
    """Required fields, and the fields their conditions, filters and locations read.

    The quick form shows only what must be typed; but a required-when or relevant
    formula, a choice filter or a location cascade needs its inputs on the page too.
    """
    everything = {f.name: f for f in scheme.fields + scheme.member_fields}
    wanted = {f.name for f in everything.values()
              if (f.required or f.required_when is not None) and f.calculate is None}
    todo = list(wanted)
    while todo:
        f = everything[todo.pop()]
        needs = set()
        for formula in (f.relevant, f.required_when):
            if formula is not None:
                needs |= set(formula.names) | set(formula.member_names)
        if f.choice_filter is not None:
            needs.add(f.choice_filter.field)
        parent = parent_field(scheme, f)
        if parent is not None:
            needs.add(parent.name)
        needs = {n for n in needs if n in everything and everything[n].calculate is None}
        for name in needs - wanted:
            wanted.add(name)
            todo.append(name)
    return wanted


def parent_field(scheme: Scheme, f: Field) -> Field | None:
    """The nearest declared location field of a higher level (the select it cascades from)."""
    levels = list(scheme.location_levels)
    if f.type != "location" or f.location_level not in levels:
        return None
    here = levels.index(f.location_level)
    pool = scheme.fields if f.scope == "unit" else scheme.fields + scheme.member_fields
    best = None
    for other in pool:
        if other is f or other.type != "location" or other.location_level not in levels:
            continue
        rank = levels.index(other.location_level)
        if rank < here and (best is None or rank > levels.index(best.location_level)):
            best = other
    return best


def cascade_of(scheme: Scheme, f: Field) -> tuple[str, str, str] | None:
    if f.choice_filter is not None:
        parent = scheme.field(f.choice_filter.field)
        return ("column", f.choice_filter.field, parent.scope if parent else "unit")
    parent = parent_field(scheme, f)
    return ("path", parent.name, parent.scope) if parent is not None else None


def choice_list(f: Field, lang: str, fallback: str) -> list:
    """The options of a select, each with its filter column for cascading (data-filter)."""
    out = []
    for c in f.choices:
        kw = {}
        if f.choice_filter is not None:
            column = c.columns.get(f.choice_filter.column)
            kw["data-filter"] = "" if column is None else str(column)
        out.append(option(c.value, c.label.get(lang, fallback) or c.value, kw))
    return out


def unbound(scheme: Scheme, f: Field, lang: str):
    fallback = scheme.default_language
    cls = FIELD_CLASSES.get(f.type, FIELD_CLASSES["text"])
    kwargs = {
        "label": f.label.get(lang, fallback) or f.name,
        "description": f.hint.get(lang, fallback) if f.hint else "",
        "spec": f,
        "templates": field_templates(scheme, f),
        "cascade": cascade_of(scheme, f),
    }
    if f.type in ("select_one", "select_multiple"):
        kwargs["choices"] = choice_list(f, lang, fallback)
    elif f.type == "location":
        kwargs["choices"] = []
    return cls(**kwargs)


class SchemeForm(Form):
    """A generated form: `declared` lists the fields in declaration order."""

    scheme: Scheme
    lang: str
    variant: str
    declared: tuple[str, ...] = ()

    def declared_fields(self):
        """The form's fields with their declarations, in declaration order."""
        return [self._fields[ATTR + name] for name in self.declared]

    def field_for(self, name: str):
        """The bound field of a declared field name (None when this form leaves it out)."""
        return self._fields.get(ATTR + name)

    @property
    def roles_field(self):
        return self._fields.get(ROLES_ATTR)

    @property
    def member_id_field(self):
        return self._fields.get(MEMBER_ATTR)


class MemberForm(SchemeForm):
    """One row of the household roster."""


class UnitForm(SchemeForm):
    member_form: type[MemberForm] | None = None

    def member_template(self):
        """A blank row named members-__index__-..., for the page's <template> element."""
        row = self.__dict__.get("_template_row")
        if row is None:
            row = self._template_row = self.member_form(prefix="members-__index__-")
        return row


def build(scheme: Scheme, lang: str, variant: str = "full") -> type[UnitForm]:
    keep = quick_fields(scheme) if variant == "quick" else None
    label_lang = form_language(scheme, lang)

    def attrs_for(fields) -> dict:
        chosen = [f for f in fields if keep is None or f.name in keep]
        attrs = {ATTR + f.name: unbound(scheme, f, label_lang) for f in chosen}
        attrs["declared"] = tuple(f.name for f in chosen)
        attrs.update(scheme=scheme, lang=label_lang, variant=variant)
        return attrs

    unit_attrs = attrs_for(scheme.fields)
    if scheme.is_household:
        member_attrs = attrs_for(scheme.member_fields)
        if scheme.roles:
            member_attrs[ROLES_ATTR] = RolesField(
                label="roles", field_name="roles",
                choices=[option(r.name, r.label.get(label_lang, scheme.default_language) or r.name) for r in scheme.roles])
        member_attrs[MEMBER_ATTR] = MemberIdField(label="member", field_name="_member")
        member_cls = type(f"{class_name(scheme)}Member", (MemberForm,), member_attrs)
        unit_attrs["member_form"] = member_cls
        # one entry more than allowed, so that validate_record can say "at most n members"
        unit_attrs["members"] = FieldList(FormField(member_cls), min_entries=max(scheme.members.min, 1),
                                          max_entries=scheme.members.max + 1)
    return type(class_name(scheme) + variant.title(), (UnitForm,), unit_attrs)


def class_name(scheme: Scheme) -> str:
    return "".join(part.title() for part in scheme.code.replace("_", "-").split("-") if part) + "Form"


def form_class(scheme: Scheme, lang: str, variant: str = "full") -> type[UnitForm]:
    """The form class for a scheme version, language and variant ("full" or "quick")."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown form variant {variant!r}")
    key = (scheme.code, scheme.content_hash, form_language(scheme, lang), variant)
    cls = _cache.get(key)
    if cls is None:
        cls = build(scheme, lang, variant)
        with _lock:
            if len(_cache) >= MAX_CACHED:
                _cache.clear()
            _cache[key] = cls
    return cls
