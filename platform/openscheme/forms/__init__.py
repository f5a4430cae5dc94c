"""Generated forms: WTForms classes built at run time from a scheme's declarations.

    form_cls = form_class(scheme, lang, "full")        # cached per scheme version
    form = new_form(form_cls, request.form or None, record)
    posted = record_from_form(form)                     # -> Registry.register / update
    attach_errors(form, result.errors, posted)          # errors next to their fields

The forms only carry and show values; `evaluation.records.validate_record`, called by
the registry service, is the one validation (docs/ARCHITECTURE.md).
"""

from .builder import (
    ATTR,
    ROLES_ATTR,
    UnitForm,
    field_templates,
    form_class,
    form_language,
    parent_field,
    quick_fields,
)
from .data import (
    Posted,
    attach_errors,
    fill_calculated,
    initial_data,
    new_form,
    record_from_form,
)
from .locations import set_location_choices

__all__ = [
    "ATTR", "ROLES_ATTR", "Posted", "UnitForm", "attach_errors", "field_templates", "fill_calculated",
    "form_class", "form_language", "initial_data", "new_form", "parent_field",
    "quick_fields", "record_from_form", "set_location_choices",
]
