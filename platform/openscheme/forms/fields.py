"""One WTForms field class per declared field type.

These fields only *read* what was posted and *hold* what is shown: every value is
kept as the text the officer typed (so a form returned with an error shows exactly
that text), and no WTForms validator runs. Typing and checking is the job of
`evaluation.records.validate_record`, the one validation shared with the API and the
import; `forms.data` turns these fields into the record it takes.

Each field carries `spec` (the compiled `definitions.model.Field`) and the list of
templates that may render it (`templates`, see form_templates/README.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import Field
from wtforms.fields import RadioField, SelectField, SelectMultipleField, StringField
from wtforms.utils import unset_value

try:  # WTForms >= 3.3 deprecates tuples; older releases take (value, label, render_kw)
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover
    SelectChoice = None


def option(value: str, label, render_kw: dict | None = None):
    """One choice of a select, with extra attributes on its <option> (data-filter, data-path)."""
    if SelectChoice is not None:
        return SelectChoice(value=value, label=label, render_kw=render_kw or {})
    return (value, label, render_kw or {})


class Declared:
    """Mixin: the declared field and how to present it."""

    input_type = "text"
    input_mode: str | None = None
    autocomplete: str | None = None

    def __init__(self, *args, spec=None, templates=(), field_name=None, cascade=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = spec
        self.templates = list(templates)
        self.cascade = cascade  # (mode "column" | "path", parent field name, parent scope) or None
        # The form attribute is "f_<name>" (a scheme field called "data" or "meta" must not
        # shadow the form's own attributes); the posted name is the declared name.
        field_name = field_name or (spec.name if spec is not None else None)
        if field_name:
            self.short_name = field_name
            self.name = kwargs.get("_prefix", "") + field_name
            if not kwargs.get("id"):
                self.id = self.name
                self.label.field_id = self.id

    @property
    def cascade_mode(self) -> str | None:
        return self.cascade[0] if self.cascade else None

    @property
    def cascade_parent(self) -> str | None:
        """The posted name of the select this one cascades from (same row for member fields)."""
        if not self.cascade:
            return None
        _, parent, scope = self.cascade
        prefix = self.name[: len(self.name) - len(self.short_name)] if scope == "member" else ""
        return prefix + parent

    @property
    def hint(self) -> str:
        return self.description or ""

    def record_value(self):
        """The value handed to validate_record: the posted text, untouched."""
        return self.data


class TextField(Declared, StringField):
    """text, national_id and anything typed freely."""

    def process_data(self, value):
        self.data = None if value is None else (format(value, "f") if isinstance(value, Decimal) else str(value))

    def _value(self):
        return "" if self.data is None else str(self.data)


class IntegerText(TextField):
    input_mode = "numeric"


class DecimalText(TextField):
    input_mode = "decimal"


class DateText(TextField):
    input_type = "date"

    def process_data(self, value):
        self.data = value.isoformat() if hasattr(value, "isoformat") else (None if value is None else str(value))


class PhoneText(TextField):
    input_type = "tel"
    autocomplete = "tel"


class EmailText(TextField):
    input_type = "email"
    autocomplete = "email"


class CalculatedField(TextField):
    """Computed by the scheme: shown, never posted into the record."""

    def process_formdata(self, valuelist):
        pass  # a posted value for a computed field is ignored

    def record_value(self):
        return None

    def _value(self):
        value = self.data
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return format(value, "f") if isinstance(value, Decimal) else str(value)


YES_NO = [option("true", _l("Yes")), option("false", _l("No"))]


class YesNoField(Declared, RadioField):
    """boolean: yes / no radios, so 'not answered' stays distinct from 'no'."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", YES_NO)
        kwargs["validate_choice"] = False
        super().__init__(*args, **kwargs)

    def process_data(self, value):
        self.data = None if value is None else ("true" if value is True or str(value).lower() == "true" else
                                                 "false" if value is False or str(value).lower() == "false" else str(value))


class ChoiceField(Declared, SelectField):
    """select_one: choices carry the filter column for cascading (choice_filter)."""

    def __init__(self, *args, **kwargs):
        kwargs["validate_choice"] = False
        super().__init__(*args, **kwargs)

    def process_data(self, value):
        self.data = None if value is None else str(value)

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = valuelist[0]


class LocationField(ChoiceField):
    """location: options are DB locations of the declared level, set per request."""


class MultiChoiceField(Declared, SelectMultipleField):
    """select_multiple: rendered as checkboxes."""

    def __init__(self, *args, **kwargs):
        kwargs["validate_choice"] = False
        super().__init__(*args, **kwargs)

    def process_data(self, value):
        if value is None:
            self.data = []
        elif isinstance(value, str):
            self.data = [x for x in value.replace(",", " ").split() if x]
        else:
            self.data = [str(x) for x in value]

    def process_formdata(self, valuelist):
        self.data = [v for v in valuelist if v != ""]

    def record_value(self):
        return list(self.data or [])


class GpsField(Declared, Field):
    """gps: two inputs (`<name>-lat`, `<name>-lon`), or one "lat lon" text under `<name>`."""

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors = []
        self.errors = []
        if data is unset_value:
            data = self.default() if callable(self.default) else self.default
        self.object_data = data
        self.lat, self.lon = self._split(data)
        if formdata is not None:
            lat, lon = formdata.get(self.name + "-lat"), formdata.get(self.name + "-lon")
            if lat is not None or lon is not None:
                self.lat, self.lon = (lat or "").strip(), (lon or "").strip()
            elif self.name in formdata:
                self.lat, self.lon = self._split(formdata.get(self.name))
        self.data = self.record_value()

    @staticmethod
    def _split(value) -> tuple[str, str]:
        if value is None or value == "":
            return "", ""
        if isinstance(value, Mapping):
            return str(value.get("lat", "")), str(value.get("lon", ""))
        if isinstance(value, (list, tuple)) and len(value) == 2:
            return str(value[0]), str(value[1])
        parts = str(value).replace(",", " ").split()
        return (parts[0], parts[1]) if len(parts) == 2 else (str(value), "")

    def record_value(self):
        if not self.lat and not self.lon:
            return None
        return f"{self.lat} {self.lon}".strip()

    def _value(self):
        return self.record_value() or ""


class MemberIdField(Declared, StringField):
    """Hidden: the uid of the stored member a row of the edit form shows, so that saving matches rows to
    members by who they are, not by their position (a row removed in the middle shifts nothing)."""

    def process_data(self, value):
        self.data = None if value is None else str(value)

    def _value(self):
        return "" if self.data is None else str(self.data)


class RolesField(MultiChoiceField):
    """The roles a household member holds (scheme.roles), as checkboxes."""


FIELD_CLASSES = {
    "text": TextField,
    "national_id": TextField,
    "integer": IntegerText,
    "decimal": DecimalText,
    "money": DecimalText,
    "date": DateText,
    "boolean": YesNoField,
    "select_one": ChoiceField,
    "select_multiple": MultiChoiceField,
    "location": LocationField,
    "phone": PhoneText,
    "email": EmailText,
    "gps": GpsField,
    "calculate": CalculatedField,
}
