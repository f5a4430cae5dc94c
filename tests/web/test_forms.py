"""Generated form classes: one per scheme version, one field per declaration, and the
round trip posted data -> record -> errors next to the right field."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import DictLoader
from registry_helpers import field_error, input_value, nafa_post, seed_locations
from werkzeug.datastructures import MultiDict

from conftest import EXAMPLES, login, make_user
from openscheme.definitions import compile_file, compile_text
from openscheme.evaluation.records import FieldError
from openscheme.forms import (
    attach_errors,
    field_templates,
    form_class,
    new_form,
    quick_fields,
    record_from_form,
)
from openscheme.forms import fields as F

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))
EXPECTED_CLASS = {
    "text": F.TextField, "national_id": F.TextField, "integer": F.IntegerText, "decimal": F.DecimalText,
    "money": F.DecimalText, "date": F.DateText, "boolean": F.YesNoField, "select_one": F.ChoiceField,
    "select_multiple": F.MultiChoiceField, "location": F.LocationField, "phone": F.PhoneText,
    "email": F.EmailText, "gps": F.GpsField, "calculate": F.CalculatedField,
}


def scheme_of(name: str):
    result = compile_file(EXAMPLES / name)
    assert result.ok, result.errors
    return result.scheme


@pytest.fixture(scope="module")
def nafa():
    return scheme_of("gm_nafa_quick.yaml")


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_a_form_class_for_every_example(path: Path):
    scheme = compile_file(path).scheme
    assert scheme is not None
    for variant in ("full", "quick"):
        cls = form_class(scheme, "en", variant)
        form = new_form(cls)
        fields = form.declared_fields()
        if variant == "full":
            assert [f.spec.name for f in fields] == [f.name for f in scheme.fields]
        for f in fields:
            assert isinstance(f, EXPECTED_CLASS[f.spec.type]), (f.spec.name, type(f))
            assert f.name == f.spec.name and f.id == f.spec.name
            assert f.label.text
        if scheme.is_household:
            row = form.members.entries[0].form
            assert row.declared_fields()[0].name.startswith("members-0-")
            assert (row.roles_field is not None) == bool(scheme.roles)
        posted = record_from_form(form)
        assert set(posted.data) <= {f.name for f in scheme.fields} | {"members"}


def test_classes_are_cached_per_version_language_and_variant(nafa):
    assert form_class(nafa, "en") is form_class(nafa, "en")
    assert form_class(nafa, "fr") is not form_class(nafa, "en")
    assert form_class(nafa, "en", "quick") is not form_class(nafa, "en")
    changed = compile_text(nafa.text.replace("label: {en: Village, fr: Village}",
                                             "label: {en: Settlement, fr: Village}"), "x.yaml").scheme
    assert changed.content_hash != nafa.content_hash
    assert new_form(form_class(changed, "en")).field_for("village").label.text == "Settlement"
    assert new_form(form_class(nafa, "en")).field_for("village").label.text == "Village"


def test_labels_and_choices_in_the_users_language(nafa):
    form = new_form(form_class(nafa, "fr"))
    assert form.field_for("region").label.text == "Région"
    assert ("URR", "Haut-Fleuve") in [(c.value, c.label) for c in form.field_for("region").iter_choices()]
    roles = form.members.entries[0].form.roles_field
    assert [c.label for c in roles.iter_choices()] == ["Chef de ménage", "Bénéficiaire principal"]
    # a language the scheme does not speak: its first language
    assert new_form(form_class(nafa, "sw")).field_for("region").label.text == "Region"


def test_choice_filter_column_is_on_each_option(nafa):
    district = new_form(form_class(nafa, "en")).field_for("district")
    assert district.cascade_mode == "column" and district.cascade_parent == "region"
    assert {c.value: c.render_kw["data-filter"] for c in district.iter_choices()}["BSE"] == "URR"


def test_location_fields_cascade_from_the_level_above():
    chf = scheme_of("tz_chf.yaml")
    form = new_form(form_class(chf, "en"))
    assert form.field_for("region").cascade is None
    assert form.field_for("ward").cascade_mode == "path"
    assert form.field_for("ward").cascade_parent == "district"


def test_posted_rows_become_members_with_roles_and_blank_rows_are_ignored(nafa):
    data = MultiDict(nafa_post())
    data.setlist("members-0-roles", ["head", "primary_recipient"])
    for key in ("first_name", "last_name", "sex", "dob", "national_id"):
        data[f"members-5-{key}"] = ""  # an added row left empty
    data["members-9-first_name"] = "Fatou"
    form = new_form(form_class(nafa, "en"), data)
    posted = record_from_form(form)
    assert posted.data["region"] == "URR"
    assert [m["first_name"] for m in posted.data["members"]] == ["Awa", "Lamin", "Fatou"]
    assert posted.data["members"][0]["roles"] == ["head", "primary_recipient"]
    assert "roles" not in posted.data["members"][1]
    assert posted.rows == [0, 1, 3]  # the blank row (form row 2) was skipped


def test_errors_go_next_to_their_fields_even_after_a_blank_row(nafa):
    data = MultiDict(nafa_post())
    data["members-1-first_name"] = ""
    for key in ("last_name", "sex", "dob", "national_id"):
        data[f"members-1-{key}"] = ""
    data.update({"members-2-first_name": "Fatou", "members-2-dob": "2008-01-01"})
    form = new_form(form_class(nafa, "en"), data)
    posted = record_from_form(form)
    errors = [FieldError("members[1].dob", "dob", "E805", "bad date"), FieldError("phone", "phone", "E801", "needed"),
              FieldError("members", "members", "E808", "too few"), FieldError("", "", "E812", "changed meanwhile"),
              FieldError("members[0].roles", "roles", "E807", "unknown role")]
    general = attach_errors(form, errors, posted)
    assert form.members.entries[2].form.field_for("dob").errors == ["bad date"]  # record member 1 = form row 2
    assert form.members.entries[1].form.field_for("dob").errors in ((), [])
    assert form.field_for("phone").errors == ["needed"]
    assert form.members.entries[0].form.roles_field.errors == ["unknown role"]
    assert form.members_errors == ["too few"]
    assert "changed meanwhile" in general
    assert ("members-2-dob", "Member 3 · Date of birth", "bad date") in form.error_list


def test_quick_form_keeps_required_fields_and_what_they_depend_on(nafa):
    names = quick_fields(nafa)
    assert {"region", "district", "village", "phone", "payment_channel", "first_name", "dob"} <= names
    assert "national_id" not in names
    educash = scheme_of("cm_educash.yaml")
    quick = quick_fields(educash)
    assert "pmt_score" not in quick  # computed, never typed
    assert "dob" in quick  # is_enrolled_in_school's relevance reads it


def test_stored_values_fill_the_edit_form():
    cheque = scheme_of("cm_cheque_sante.yaml")
    form = new_form(form_class(cheque, "en"), record={"lmp_known": True, "parity": 2, "lmp": "2024-01-10"})
    assert form.field_for("lmp_known").data == "true"
    assert form.field_for("parity")._value() == "2"
    assert form.field_for("lmp")._value() == "2024-01-10"


def test_gps_posts_two_inputs_or_one_text():
    text = (EXAMPLES / "gm_nafa_quick.yaml").read_text()
    text = text.replace("  - name: payment_channel\n", "  - preset: gps\n  - name: payment_channel\n", 1)
    scheme = compile_text(text, "gps.yaml").scheme
    assert scheme is not None
    cls = form_class(scheme, "en")
    assert record_from_form(new_form(cls, MultiDict({"gps-lat": "-6.8", "gps-lon": "39.28"}))).data["gps"] == "-6.8 39.28"
    assert record_from_form(new_form(cls, MultiDict({"gps": "13.45 -16.57"}))).data["gps"] == "13.45 -16.57"
    assert record_from_form(new_form(cls, MultiDict({"gps-lat": "", "gps-lon": ""}))).data["gps"] is None
    assert new_form(cls, record={"gps": {"lat": "1.5", "lon": "2.5"}}).field_for("gps").lat == "1.5"


def test_field_templates_order_and_safety():
    text = (EXAMPLES / "gm_nafa_quick.yaml").read_text().replace(
        "    label: {en: Village, fr: Village}", "    label: {en: Village, fr: Village}\n    widget: textarea", 1)
    scheme = compile_text(text, "t.yaml").scheme
    village = scheme.field("village")
    assert field_templates(scheme, village) == [
        "schemes/gm-nafa-quick/village.html", "widgets/textarea.html", "widgets/text.html", "widgets/text.html"]
    from dataclasses import replace

    assert field_templates(scheme, replace(village, template="big_text"))[0] == "widgets/big_text.html"
    assert field_templates(scheme, replace(village, template="schemes/x/v.html"))[0] == "schemes/x/v.html"
    assert field_templates(scheme, replace(village, template="../../etc/passwd"))[0] == "schemes/gm-nafa-quick/village.html"


# ---- rendering, with the app -------------------------------------------------------------


@pytest.fixture
def officer(app, client):
    make_user(app, "officer", [("enrolment_officer", None, None)])
    login(client, "officer")
    return client


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_example_form_renders(app, officer, path):
    seed_locations(app)
    scheme = compile_file(path).scheme
    for url in (f"/s/{scheme.code}/register", f"/s/{scheme.code}/quick"):
        r = officer.get(url)
        assert r.status_code == 200, url
        html = r.get_data(as_text=True)
        assert 'data-os-form' in html and 'novalidate' in html
        assert "<script>" not in html and " style=" not in html  # CSP: no inline code or style
        for f in scheme.fields:
            if f.calculate is None and url.endswith("register"):
                assert f'name="{f.name}' in html, f.name
        if scheme.is_household:
            assert "<template data-member-template>" in html and "members-__index__-" in html


def test_every_label_points_at_an_input(app, officer):
    import re

    seed_locations(app)
    html = officer.get("/s/tz-chf/register").get_data(as_text=True)
    ids = set(re.findall(r'\sid="([^"]+)"', html))
    for target in re.findall(r'<label for="([^"]+)"', html):
        assert target in ids, target


def test_a_place_lists_only_the_places_inside_the_chosen_one_above(app, officer):
    import re

    seed_locations(app)
    html = officer.get("/s/tz-chf/register").get_data(as_text=True)
    assert 'data-cascade="path" data-parent-name="district"' in html
    assert '<option value="DODOMA" data-path="/DODOMA/">' in html  # the top level: every region
    ward = re.search(r'<select id="ward".*?</select>', html, re.S).group(0)
    assert "data-children-url=" in ward and "MLALI" not in ward  # nothing above is chosen yet
    # the page asks for the places of a chosen one (a cleared district: the wards of the region)
    rows = officer.get("/s/tz-chf/places?field=ward&parent=KONGWA_DC").get_json()
    assert rows == [{"code": "MLALI", "name": "Mlali", "path": "/DODOMA/KONGWA_DC/MLALI/"}]
    assert [r["code"] for r in officer.get("/s/tz-chf/places?field=ward&parent=DODOMA").get_json()] == \
        ["BAHI_WARD", "MLALI"]
    assert officer.get("/s/tz-chf/places?field=ward&parent=NOWHERE").status_code == 404
    assert officer.get("/s/tz-chf/places?field=phone&parent=DODOMA").status_code == 404
    # a form sent back (an error) lists the places inside what was chosen
    r = officer.post("/s/tz-chf/register", data={"region": "DODOMA", "district": "BAHI_DC"})
    html = r.get_data(as_text=True)
    ward = re.search(r'<select id="ward".*?</select>', html, re.S).group(0)
    assert 'value="BAHI_WARD"' in ward and 'value="MLALI"' not in ward


def test_an_officer_is_offered_only_the_places_of_their_area(app, client):
    seed_locations(app)
    make_user(app, "kongwa", [("enrolment_officer", "tz-chf", "KONGWA_DC")])
    login(client, "kongwa")
    html = client.get("/s/tz-chf/register").get_data(as_text=True)
    # their one region and district are the only ones offered, and chosen: the wards below are listed at once
    assert 'value="DODOMA" selected' in html and 'value="KONGWA_DC" selected' in html and 'value="MLALI"' in html
    assert "BAHI" not in html and "PWANI" not in html
    assert client.get("/s/tz-chf/places?field=ward&parent=BAHI_DC").get_json() == []  # outside their area
    assert [r["code"] for r in client.get("/s/tz-chf/places?field=ward&parent=DODOMA").get_json()] == ["MLALI"]
    assert client.get("/s/np-hib/places?field=ward&parent=KATHMANDU_METRO").status_code == 403  # not their scheme


def test_scheme_may_override_one_field_or_the_whole_form(app, officer):
    overrides = DictLoader({
        "schemes/gm-nafa-quick/village.html": '<div data-custom-village>{{ field.label.text }}: '
                                              '<input id="{{ field.id }}" name="{{ field.name }}"></div>',
    })
    app.jinja_loader.loaders.insert(0, overrides)
    try:
        html = officer.get("/s/gm-nafa-quick/register").get_data(as_text=True)
        assert "data-custom-village" in html
        overrides.mapping["schemes/gm-nafa-quick/form.html"] = (
            '{% extends "layouts/household.html" %}{% block actions %}<p data-custom-form>'
            '<button type="submit">Go</button></p>{% endblock %}')
        html = officer.get("/s/gm-nafa-quick/register").get_data(as_text=True)
        assert "data-custom-form" in html and "data-custom-village" in html
    finally:
        app.jinja_loader.loaders.remove(overrides)
        app.jinja_env.cache.clear()


def test_the_form_keeps_what_was_typed_after_an_error(app, officer):
    r = officer.post("/s/gm-nafa-quick/register",
                     data=nafa_post(payment_channel="mobile_money", phone="12ab", **{"members-1-dob": "05/05/2005"}))
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert input_value(html, "phone") == "12ab"
    assert input_value(html, "members-1-dob") == "05/05/2005"
    assert field_error(html, "phone") == "Digits only, 7 to 15, optionally starting with +"
    assert field_error(html, "members-1-dob") == "Enter a date as YYYY-MM-DD."
    assert 'aria-invalid="true"' in html and 'href="#phone"' in html
    assert '<option value="URR" selected>' in html
    assert 'value="head" checked' in html


def test_formulas_script_is_served_for_the_form(app, officer):
    from openscheme.web.app import catalog

    with app.app_context():
        content_hash = catalog().current("gm-nafa-quick").content_hash
    r = officer.get(f"/s/gm-nafa-quick/formulas.js?v={content_hash}")
    assert r.status_code == 200
    assert r.mimetype == "text/javascript"
    assert "immutable" in r.headers["Cache-Control"]
    body = r.get_data(as_text=True)
    assert 'OpenScheme.register("gm-nafa-quick"' in body
    assert 'R.eq(v("payment_channel"), "mobile_money")' in body
    assert officer.get("/s/gm-nafa-quick/formulas.js").headers["Cache-Control"] == "no-cache"
    html = officer.get("/s/gm-nafa-quick/register").get_data(as_text=True)
    assert f"/s/gm-nafa-quick/formulas.js?v={content_hash}" in html
    assert "/static/forms.js" in html
