"""Property tests for the write path: what is valid round-trips exactly, everything else is refused unchanged.

A valid name matches ^[a-z][a-z0-9]*(_[a-z0-9]+)*$ and has at most 64 characters; a valid value has 1-150
characters, none of them a C0 control (tab excepted), DEL, a C1 control or a surrogate, and not all of them
invisible. Both are trimmed on the way in, so generated valid values carry no leading or trailing whitespace
(that they are trimmed is tested elsewhere).
"""

import json

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attributes.models import Attribute
from crm_project.parsing import has_visible_character
from tests.factories import attribute_rows, make_user
from tests.security.conftest import bearer

pytestmark = pytest.mark.fuzz

EXAMPLES = settings(
    max_examples=50, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
ALL_ATTRIBUTE_PERMS = (
    "view_customer_attribute",
    "create_customer_attribute",
    "update_customer_attribute",
    "delete_customer_attribute",
)
FORBIDDEN = [chr(c) for c in range(0x20) if c != 0x09] + [chr(c) for c in range(0x7F, 0xA0)]  # C0, DEL, C1

valid_names = st.from_regex(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", fullmatch=True).filter(lambda n: len(n) <= 64)
allowed_characters = st.characters(exclude_categories=("Cs",), exclude_characters=FORBIDDEN)
valid_values = st.text(allowed_characters, min_size=1, max_size=150).filter(
    lambda v: v.strip() == v and has_visible_character(v)  # only-invisible text is refused as empty
)

invalid_names = st.one_of(
    st.just(""),
    st.text(st.sampled_from("abc_"), min_size=65, max_size=80).map(lambda n: "a" + n.replace("__", "_a")),
    st.from_regex(r"[a-z][a-z0-9]{0,20}", fullmatch=True).map(lambda n: n + "_"),  # trailing underscore
    st.from_regex(r"[a-z]{1,10}__[a-z]{1,10}", fullmatch=True),  # double underscore
    st.from_regex(r"[0-9_][a-z0-9]{0,10}", fullmatch=True),  # must start with a letter
    st.from_regex(r"[a-z]{0,10}[A-Z \-.:é/<>'\"][a-z]{0,10}", fullmatch=True),  # a character names may not hold
)
invalid_values = st.one_of(
    st.just(""),
    st.text(st.sampled_from(" \t\u00a0\u2003"), min_size=1, max_size=20),  # whitespace only
    st.text(allowed_characters, min_size=151, max_size=300).filter(lambda v: len(v.strip()) > 150),
    st.tuples(
        st.text(allowed_characters, min_size=1, max_size=60),
        st.sampled_from(FORBIDDEN),
        st.text(allowed_characters, min_size=1, max_size=60),
    ).map("".join),
)


@pytest.fixture
def api(world):
    return bearer(make_user(*ALL_ATTRIBUTE_PERMS))


@pytest.fixture
def ui(client, world):
    client.force_login(make_user("view_customer", *ALL_ATTRIBUTE_PERMS))  # attribute pages show the customer
    return client


def test_any_valid_name_and_value_round_trips_exactly_through_the_api(api, world):
    @EXAMPLES
    @given(name=valid_names, value=valid_values)
    def check(name, value):
        body = {"customer_id": world.customer.pk, "attribute_name": name, "attribute_value": value}
        put = api.put("/crm/attribute/", body, format="json")
        assert put.status_code in (200, 201), put.content
        assert (put.json()["attribute_name"], put.json()["attribute_value"]) == (name, value)

        got = api.get(f"/crm/attribute/attribute_id/{put.json()['attribute_id']}")
        assert got.status_code == 200
        assert (got.json()["attribute_name"], got.json()["attribute_value"]) == (name, value)
        stored = Attribute.objects.get(customer=world.customer, attribute_name=name)
        assert stored.attribute_value == value

    check()


def test_any_valid_name_and_value_round_trips_exactly_through_the_ui_form(ui, world):
    url = reverse("attributes:create", args=[world.customer.pk])

    @EXAMPLES
    @given(name=valid_names, value=valid_values)
    def check(name, value):
        response = ui.post(url, {"attribute_name": name, "attribute_value": value})
        assert response.status_code == 302, response.content[:2000]
        stored = Attribute.objects.get(customer=world.customer, attribute_name=name)
        assert stored.attribute_value == value

    check()


def _invalid_pairs():
    return st.one_of(
        st.tuples(invalid_names, st.one_of(valid_values, invalid_values)),
        st.tuples(valid_names, invalid_values),
    )


def test_anything_else_is_refused_by_the_api_with_400_and_changes_nothing(api, world):
    @EXAMPLES
    @given(pair=_invalid_pairs())
    def check(pair):
        name, value = pair
        before = attribute_rows()
        body = {"customer_id": world.customer.pk, "attribute_name": name, "attribute_value": value}
        put = api.put("/crm/attribute/", body, format="json")
        assert put.status_code == 400, (name, value, put.content)
        patch = api.patch(
            f"/crm/attribute/attribute_id/{world.attribute.pk}",
            {"attribute_name": name, "attribute_value": value},
            format="json",
        )
        assert patch.status_code == 400, (name, value, patch.content)
        bulk = api.put("/crm/attribute/bulk/", [body], format="json")
        assert bulk.status_code == 400, (name, value, bulk.content)
        assert attribute_rows() == before

    check()


def test_lone_surrogates_in_json_are_refused_by_the_api(api, world):
    """JSON can spell a lone surrogate (\\ud800) that no UTF-8 form or database can hold."""
    before = attribute_rows()
    for value in ("\ud800", "a\udfffb", "x\ud83d"):
        body = {"customer_id": world.customer.pk, "attribute_name": "note", "attribute_value": value}
        # json.dumps writes a lone surrogate as its \\u escape, as a hostile client would.
        response = api.put("/crm/attribute/", json.dumps(body), content_type="application/json")
        assert response.status_code == 400, response.content
    assert attribute_rows() == before


def test_anything_else_is_refused_by_the_ui_form_and_changes_nothing(ui, world):
    create = reverse("attributes:create", args=[world.customer.pk])
    update = reverse("attributes:update", args=[world.customer.pk, world.attribute.pk])

    @EXAMPLES
    @given(pair=_invalid_pairs())
    def check(pair):
        name, value = pair
        before = attribute_rows()
        for url in (create, update):
            response = ui.post(url, {"attribute_name": name, "attribute_value": value})
            if "\x00" in value:
                # NUL anywhere in a form is refused before any view (crm_project/input_guard.py: no database can
                # store it), with a plain 400 naming the field.
                assert response.status_code == 400, (url, name, value, response.status_code)
                assert "attribute_value" in response.text
                continue
            # The form comes back with the error (200, so htmx swaps it into the modal); nothing is saved.
            assert response.status_code == 200, (url, name, value, response.status_code)
            assert "invalid-feedback" in response.text or "alert-danger" in response.text
        assert attribute_rows() == before

    check()
