"""Hostile text in every input: ids in ASCII digits only, and no NUL, lone surrogate, C1 control or invisible-only
text reaches a query, a stored row or an error message that cannot be rendered.

The regression tests name the findings of issue 11 (Unicode digits, NUL on PostgreSQL, lone surrogates, lenient
input); the property tests then feed the same classes of text to every query parameter of every GET page and
endpoint, every JSON write (strings and keys), the web forms and the CSV import: no 5xx, nothing stored.
"""

import csv
import io
import json
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from attributes import csvio
from attributes.csvio import CsvFormatError
from attributes.models import Attribute, AttributeDefinition
from crm_project.parsing import parse_id, parse_int
from customers.models import Customer
from tests.factories import attribute_rows, customer_rows, make_attribute, make_customer, make_user
from tests.security.conftest import ALL_CODENAMES, bearer
from tests.security.urlmap import ROUTES, make_objects, url_for

pytestmark = pytest.mark.fuzz

EXAMPLES = settings(
    max_examples=6, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
UNICODE_DIGITS = ["²", "١٢", "１", "٣", "߁", "𝟙"]  # superscript, Arabic-Indic, fullwidth, NKo, math bold
NUL, SURROGATES = "\x00", ["\ud800", "\udfff", "\ud83d"]
C0 = [chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)] + ["\x7f"]
C1 = [chr(c) for c in range(0x80, 0xA0)]
INVISIBLE = ["\u200b", "\ufeff", "\u202e", "\u2066", "\u200f", "\u0301", "\u00a0", "\u3000", "\u2800"]

# Text that no field accepts: it holds a NUL, another control character, a C1 control or a lone surrogate.
forbidden_char = st.sampled_from([NUL, *SURROGATES, *C0, *C1])
plain = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=12)
hostile = st.tuples(plain, forbidden_char, plain).map("".join)
# Text that a required field refuses although it holds no control character: nothing visible in it.
invisible_only = st.text(st.sampled_from(INVISIBLE), min_size=1, max_size=6)
# Anything a query string or form may carry, the ugly classes included.
any_text = st.one_of(hostile, invisible_only, st.sampled_from(UNICODE_DIGITS), plain)


def _rows() -> tuple:
    return (
        attribute_rows(),
        customer_rows(),
        list(AttributeDefinition.objects.order_by("pk").values_list()),
    )


def _raw_json(value) -> str:
    """JSON as a hostile client writes it: json.dumps spells a lone surrogate as its \\u escape."""
    return json.dumps(value)


@pytest.fixture
def admin_client(client, world) -> object:
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-for-tests-1"))
    return client


# --- ids are ASCII digits ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["²", "١٢", "１", "+1", " 1", "1 ", "-1", "0x1", "1e3", "", "9" * 20, str(2**63)])
def test_parse_id_takes_ascii_digits_in_range_only(raw):
    assert parse_id(raw) is None


def test_parse_id_and_parse_int_read_ascii_digits():
    assert parse_id("12") == 12
    assert parse_id(str(2**63 - 1)) == 2**63 - 1
    assert parse_id("0") is None
    assert parse_int("0") == 0
    assert parse_int("1001", maximum=1000) is None


PAGED = [
    "/crm/customer/",
    "/crm/attribute/",
    "/crm/attribute/customer_id/{customer_id}/history",
    "/crm/attribute/attribute_id/{attribute_id}/history",
]


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
@pytest.mark.parametrize("param", ["limit", "offset"])
@pytest.mark.parametrize("path", PAGED)
def test_unicode_digits_in_paging_are_a_400_not_a_500(api, world, path, param, digits):
    url = path.format(customer_id=world.customer.pk, attribute_id=world.attribute.pk)

    response = api.get(url, {param: digits})

    assert response.status_code == 400, (url, param, response.content[:300])
    assert param in response.json()


@pytest.mark.parametrize("digits", UNICODE_DIGITS)
def test_unicode_digits_as_export_customer_id_are_a_400(api, world, digits):
    response = api.get("/crm/attribute/export", {"customer_id": digits})

    assert response.status_code == 400
    assert "customer_id" in response.json()


@pytest.mark.parametrize("path", ["/customers/", "/customers/attributes-export.csv"])
def test_arabic_indic_digits_do_not_search_by_customer_id(admin_client, world, path):
    customer = world.customer
    arabic = "".join(chr(0x0660 + int(d)) for d in str(customer.pk))  # the same number in Arabic-Indic digits

    for query in ("²", "１", arabic):
        response = admin_client.get(path, {"q": query})
        assert response.status_code == 200, (query, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert customer.customer_name.encode() not in body, query
    found = admin_client.get("/customers/", {"q": str(customer.pk)})
    assert customer.customer_name in found.text  # ASCII digits still find the customer by id


@pytest.mark.parametrize("raw_id", ["²", "١", "１"])
def test_csv_import_rejects_a_row_whose_id_is_not_ascii_digits(world, raw_id):
    make_customer(customer_name="One")  # so "١" would name an existing customer if read as 1
    text = f"customer_id,attribute_name,attribute_value\n{raw_id},imported,x\n"
    before = _rows()

    report = csvio.run_import(text, actor=make_user(*ALL_CODENAMES), dry_run=False)

    assert [error.field for error in report.rejected] == ["customer_id"]
    assert _rows() == before


# --- NUL and lone surrogates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "attribute_name=a&attribute_value=%00",
        "attribute_name=a&attribute_value__startswith=%00",
        "attribute_name=a&attribute_value__in=x,%00",
        "attribute=a:%00",
        "limit=%00",
        "%00=1",
    ],
)
@pytest.mark.parametrize("path", ["/crm/customer/", "/crm/attribute/", "/crm/attribute/export"])
def test_nul_in_an_api_query_parameter_is_a_json_400(api, world, path, query):
    response = api.get(f"{path}?{query}")

    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert "NUL" in response.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/customers/?q=%00",
        "/customers/?attribute_name=a&attribute_value=%00",
        "/customers/attributes-export.csv?q=a%00",
        "/customers/attributes-export.csv?attribute_name=a&attribute_value=%00",
        "/attributes/registry/?q=%00",
        "/attributes/usage/?name=%00",
    ],
)
def test_nul_in_a_page_query_parameter_is_a_plain_400(admin_client, url):
    response = admin_client.get(url)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")


def test_nul_in_a_form_field_is_a_400_and_saves_nothing(admin_client, world):
    before = _rows()

    response = admin_client.post(
        f"/customers/{world.customer.pk}/attributes/add/", {"attribute_name": "note", "attribute_value": "a\x00b"}
    )

    assert response.status_code == 400
    assert _rows() == before


@pytest.mark.parametrize("surrogate", SURROGATES)
def test_lone_surrogates_in_json_keys_and_strings_are_a_clean_400(api, world, surrogate):
    """The error used to echo the surrogate, and rendering that echo raised UnicodeEncodeError (500)."""
    attribute_body = {"customer_id": world.customer.pk, "attribute_name": "note", "attribute_value": "x"}
    requests = [
        ("put", "/crm/attribute/", {**attribute_body, surrogate: "x"}),
        ("put", "/crm/attribute/", {**attribute_body, "attribute_name": surrogate}),
        ("put", "/crm/attribute/bulk/", [{**attribute_body, "attribute_name": f"a{surrogate}"}]),
        ("put", "/crm/attribute/bulk/", [{**attribute_body, surrogate: 1}]),
        ("patch", f"/crm/attribute/attribute_id/{world.attribute.pk}", {"attribute_name": surrogate}),
        ("patch", f"/crm/attribute/attribute_id/{world.attribute.pk}", {surrogate: "x"}),
        ("put", "/crm/customer/", {"customer_name": "New", surrogate: "x"}),
        ("put", "/crm/customer/", {"customer_name": f"New{surrogate}"}),
        ("patch", f"/crm/customer/customer_id/{world.customer.pk}", {"notes": surrogate}),
    ]
    before = _rows()
    for method, url, body in requests:
        response = getattr(api, method)(url, _raw_json(body), content_type="application/json")
        assert response.status_code == 400, (method, url, body, response.status_code)
        assert surrogate not in response.content.decode("utf-8")
        assert response.json()
    assert _rows() == before


def test_nul_in_a_json_string_is_refused_naming_the_field(api, world):
    body = {"customer_id": world.customer.pk, "attribute_name": "note", "attribute_value": "a\x00b"}
    for url, sent in [("/crm/attribute/", body), ("/crm/customer/", {"customer_name": "a\x00"})]:
        response = api.put(url, _raw_json(sent), content_type="application/json")
        assert response.status_code == 400
        assert "null" in json.dumps(response.json()).lower()
    bulk = api.put(
        "/crm/attribute/bulk/", _raw_json([{**body, "attribute_name": "a\x00"}]), content_type="application/json"
    )
    assert bulk.status_code == 400


# --- lenient input -----------------------------------------------------------------------------------------


def test_duplicate_json_keys_are_refused_and_write_nothing(api, world):
    other = world.other_customer.pk
    bodies = [
        (
            "put",
            "/crm/attribute/",
            f'{{"customer_id": {world.customer.pk}, "customer_id": {other}, '
            '"attribute_name": "dup", "attribute_value": "x"}',
        ),
        (
            "put",
            "/crm/attribute/bulk/",
            f'[{{"customer_id": {other}, "attribute_name": "dup", "attribute_value": "x", "attribute_value": "y"}}]',
        ),
        (
            "patch",
            f"/crm/attribute/attribute_id/{world.attribute.pk}",
            '{"attribute_value": "a", "attribute_value": "b"}',
        ),
        ("put", "/crm/customer/", '{"customer_name": "A", "customer_name": "B"}'),
        ("patch", f"/crm/customer/customer_id/{world.customer.pk}", '{"notes": "a", "notes": "b"}'),
    ]
    before = _rows()
    for method, url, raw in bodies:
        response = getattr(api, method)(url, raw, content_type="application/json")
        assert response.status_code == 400, (url, response.content)
        assert "appears more than once" in response.content.decode(), response.content
    assert _rows() == before


@pytest.mark.parametrize("char", ["\x80", "\x85", "\x9b", "\x9f"])
def test_c1_controls_are_refused_in_values_and_customer_names(api, world, char):
    before = _rows()
    value = api.put(
        "/crm/attribute/",
        {"customer_id": world.customer.pk, "attribute_name": "note", "attribute_value": f"a{char}b"},
        format="json",
    )
    name = api.put("/crm/customer/", {"customer_name": f"Acme{char}Ltd"}, format="json")

    assert value.status_code == 400 and "control" in value.json()["attribute_value"][0]
    assert name.status_code == 400 and "control" in name.json()["customer_name"][0].lower()
    assert _rows() == before


@pytest.mark.parametrize("invisible", ["\u200b", "\ufeff", "\u202e", "\u2066\u2069", "\u0301", "\u200b \ufeff"])
def test_values_and_names_with_nothing_visible_are_required(api, admin_client, world, invisible):
    before = _rows()
    value = api.put(
        "/crm/attribute/",
        {"customer_id": world.customer.pk, "attribute_name": "note", "attribute_value": invisible},
        format="json",
    )
    name = api.put("/crm/customer/", {"customer_name": invisible}, format="json")
    form = admin_client.post(
        "/customers/new/",
        {"customer_name": invisible, "customer_account_type": "Individual", "customer_status": "Open"},
    )

    assert value.status_code == 400 and "required" in value.json()["attribute_value"][0]
    assert name.status_code == 400 and "required" in name.json()["customer_name"][0]
    assert form.status_code == 200 and "invisible" in form.text
    assert _rows() == before


@pytest.mark.parametrize("char", ["\x1b", "\x07", "\t", "\n"])
def test_customer_names_with_control_characters_are_refused(api, admin_client, world, char):
    before = _rows()
    api_put = api.put("/crm/customer/", {"customer_name": f"Acme{char}[31m"}, format="json")
    api_patch = api.patch(
        f"/crm/customer/customer_id/{world.customer.pk}", {"customer_name": f"A{char}B"}, format="json"
    )
    form = admin_client.post(
        f"/customers/{world.customer.pk}/edit/",
        {"customer_name": f"Acme{char}x", "customer_account_type": "Individual", "customer_status": "Open"},
    )

    assert api_put.status_code == 400 and api_patch.status_code == 400
    assert form.status_code == 200 and "Control characters" in form.text
    assert _rows() == before


def test_notes_keep_line_breaks_but_not_other_controls(api, world):
    url = f"/crm/customer/customer_id/{world.customer.pk}"
    assert api.patch(url, {"notes": "line one\nline two\ttabbed"}, format="json").status_code == 200
    assert api.patch(url, {"notes": "bell\x07"}, format="json").status_code == 400


def _export_lines(api, **params) -> list[str]:
    response = api.get("/crm/attribute/export", params)
    return b"".join(response.streaming_content).decode().splitlines()


def test_csv_export_quotes_every_field_and_defuses_formulas_after_a_separator(api, world):
    customer = make_customer(customer_name="Acme;=1+1")
    make_attribute(customer, "formula", "x,=HYPERLINK(1)")
    make_attribute(customer, "plain", "a - b")

    lines = _export_lines(api, customer_id=customer.pk)
    rows = list(csv.reader(io.StringIO("\n".join(lines))))

    assert all(line.startswith('"') for line in lines)
    assert rows[1][1:4] == ["'Acme;=1+1", "formula", "'x,=HYPERLINK(1)"]
    assert rows[2][3] == "a - b"


def test_csv_export_of_an_old_customer_name_with_control_characters_is_sanitised(api, world):
    customer = make_customer(customer_name="ok")
    Customer.objects.filter(pk=customer.pk).update(customer_name="Acme\x1b[31m\x07\x85")  # a row from before
    make_attribute(customer, "tier", "gold")

    text = "\n".join(_export_lines(api, customer_id=customer.pk))

    assert "Acme\ufffd[31m\ufffd\ufffd" in text
    assert not any(ch in text for ch in "\x1b\x07\x85")


def test_formula_guard_round_trips_through_import(world):
    values = ["Acme;=1+1", "x, -5", "=SUM(1)", "'=1", "'plain", "a - b"]
    customer = make_customer(customer_name="Round trip")
    for index, value in enumerate(values):
        make_attribute(customer, f"v{index}", value)
    api = bearer(make_user(*ALL_CODENAMES))
    exported = "\n".join(_export_lines(api, customer_id=customer.pk)) + "\n"
    Attribute.objects.filter(customer=customer).update(attribute_value="changed")

    report = csvio.run_import(exported, actor=make_user(*ALL_CODENAMES), dry_run=False)

    assert not report.rejected
    stored = dict(Attribute.objects.filter(customer=customer).values_list("attribute_name", "attribute_value"))
    assert stored == {f"v{index}": value for index, value in enumerate(values)}


# --- property tests: every text input ----------------------------------------------------------------------

QUERY_NAMES = [
    "q",
    "status",
    "page",
    "limit",
    "offset",
    "customer_id",
    "name",
    "attribute_name",
    "attribute_value",
    "attribute_value__in",
    "attribute_value__startswith",
    "attribute_value__icontains",
    "attribute_exists",
    "attribute",
    "filter_op",  # retired names of the list page's old filter form, still in old bookmarks
    "filter_value",
    "next",
    "format",
]
GET_ROUTES = [
    route
    for route in ROUTES
    if route.name not in {"admin:*", "logout", "schema", "swagger-ui"} and not route.name.startswith("/")
]
query_params = st.dictionaries(st.one_of(st.sampled_from(QUERY_NAMES), any_text), any_text, min_size=1, max_size=4)


def _query_string(params: dict[str, str]) -> str:
    # Percent-encode as UTF-8, a lone surrogate as the (invalid) bytes a hostile client would send.
    def enc(text: str) -> str:
        return quote(text.encode("utf-8", "surrogatepass"), safe="")

    return "&".join(f"{enc(k)}={enc(v)}" for k, v in params.items())


@pytest.mark.parametrize("route", GET_ROUTES, ids=[route.name for route in GET_ROUTES])
def test_no_query_string_makes_any_get_page_or_endpoint_fail(admin_client, world, route):
    url = url_for(route, make_objects(world), User.objects.get(username="root"))
    before = _rows()

    @EXAMPLES
    @given(params=query_params)
    def check(params):
        response = admin_client.get(f"{url}?{_query_string(params)}")
        assert response.status_code < 500, (url, params, response.status_code)
        if response.streaming:
            b"".join(response.streaming_content)  # a streamed export fails while streaming, if at all

    check()
    assert _rows()[0] == before[0] or route.name == "tokens:list"


def _valid_bodies(world) -> dict[str, tuple[str, str, dict]]:
    attribute = {"customer_id": world.customer.pk, "attribute_name": "fuzzed", "attribute_value": "x"}
    customer = {"customer_name": "Fuzzed", "customer_account_type": "Individual", "customer_status": "Open"}
    return {
        "attribute PUT": ("put", "/crm/attribute/", attribute),
        "attribute PATCH": ("patch", f"/crm/attribute/attribute_id/{world.attribute.pk}", attribute),
        "bulk PUT": ("put", "/crm/attribute/bulk/", attribute),
        "customer PUT": ("put", "/crm/customer/", {**customer, "email": "a@example.com", "phone": "1", "notes": "n"}),
        "customer PATCH": ("patch", f"/crm/customer/customer_id/{world.customer.pk}", {"notes": "n", "phone": "1"}),
    }


@pytest.mark.parametrize("write", ["attribute PUT", "attribute PATCH", "bulk PUT", "customer PUT", "customer PATCH"])
def test_hostile_json_strings_and_keys_are_refused_by_every_api_write(api, world, write):
    method, url, valid = _valid_bodies(world)[write]

    @EXAMPLES
    @given(field=st.sampled_from([*valid, None]), text=hostile, as_key=st.booleans())
    def check(field, text, as_key):
        body = dict(valid)
        if field is None or as_key:
            body[text] = "x"  # an unknown (and unstorable) key
        else:
            body[field] = text
        before = _rows()
        sent = [body] if write == "bulk PUT" else body
        response = getattr(api, method)(url, _raw_json(sent), content_type="application/json")
        assert response.status_code == 400, (write, body, response.status_code, response.content[:300])
        response.content.decode("utf-8")  # renderable
        assert _rows() == before

    check()


def test_non_ascii_digits_are_not_json_ids(api, world):
    before = _rows()
    for digits in UNICODE_DIGITS:
        body = {"customer_id": digits, "attribute_name": "x", "attribute_value": "x"}
        assert api.put("/crm/attribute/", body, format="json").status_code == 400
        assert api.put("/crm/attribute/bulk/", [body], format="json").status_code == 400
    assert _rows() == before


def _forms(world) -> dict[str, tuple[str, dict]]:
    customer = {"customer_name": "Fuzzed", "customer_account_type": "Individual", "customer_status": "Open"}
    return {
        "attribute create": (
            f"/customers/{world.customer.pk}/attributes/add/",
            {"attribute_name": "fuzzed", "attribute_value": "x"},
        ),
        "attribute update": (
            f"/customers/{world.customer.pk}/attributes/{world.attribute.pk}/edit/",
            {"attribute_name": "external_crm_id", "attribute_value": "x"},
        ),
        "customer create": ("/customers/new/", {**customer, "phone": "1", "notes": "n"}),
        "customer update": (f"/customers/{world.customer.pk}/edit/", {**customer, "phone": "1", "notes": "n"}),
        "registry create": ("/attributes/registry/new/", {"name": "fuzzed_def", "value_type": "text"}),
    }


@pytest.mark.parametrize(
    "form", ["attribute create", "attribute update", "customer create", "customer update", "registry create"]
)
def test_hostile_form_fields_never_fail_and_save_nothing(admin_client, world, form):
    url, valid = _forms(world)[form]
    text_fields = [field for field in valid if field not in {"customer_account_type", "customer_status", "value_type"}]

    @EXAMPLES
    @given(field=st.sampled_from(text_fields), char=st.sampled_from([NUL, *C0, *C1]), around=plain)
    def check(field, char, around):
        before = _rows()
        if field == "notes" and char in "\t\n\r":
            char = "\x00"
        response = admin_client.post(url, {**valid, field: f"{around}{char}z"})  # inside: trimming keeps it
        assert response.status_code in (200, 400), (form, field, repr(char), response.status_code)
        assert _rows() == before

    check()


def test_hostile_sign_in_never_fails(client, world):
    @EXAMPLES
    @given(username=any_text, password=any_text)
    def check(username, password):
        body = f"username={_query_string({'': username})[1:]}&password={_query_string({'': password})[1:]}"
        response = client.post("/accounts/login/", body, content_type="application/x-www-form-urlencoded")
        assert response.status_code in (200, 400, 403, 429), response.status_code
        assert "_auth_user_id" not in client.session

    check()


def test_hostile_csv_cells_are_refused_and_import_nothing(world):
    actor = make_user(*ALL_CODENAMES)

    @EXAMPLES
    @given(
        column=st.sampled_from(["customer_id", "attribute_name", "attribute_value"]),
        text=st.one_of(hostile, invisible_only, st.sampled_from(UNICODE_DIGITS)),
    )
    def check(column, text):
        assume(column != "attribute_value" or text not in UNICODE_DIGITS)  # a digit of any script is a valid value
        cells = {"customer_id": str(world.customer.pk), "attribute_name": "imported", "attribute_value": "x"}
        cells[column] = text.replace("\ud800", "\x00").replace("\udfff", "\x00").replace("\ud83d", "\x00")
        buffer = io.StringIO()
        csv.writer(buffer).writerows([list(cells), list(cells.values())])
        before = _rows()
        try:
            report = csvio.run_import(buffer.getvalue(), actor=actor, dry_run=False)
        except CsvFormatError:
            pass
        else:
            assert report.rejected, cells
        assert _rows() == before

    check()
