"""Stored HTML, script and attribute-breaking payloads are inert everywhere they are shown; CSV exports defuse
spreadsheet formulas, and importing an export gives back exactly what was exported.
"""

import csv
import io
import re

import pytest
from django.test import Client

from attributes import services
from attributes.models import Attribute, AttributeDefinition
from attributes.views.csv import SESSION_PREFIX
from customers.models import Customer
from jobs import runner
from tests.factories import make_attribute, make_customer, make_user
from tests.security.conftest import ALL_CODENAMES, XSS_PAYLOADS, bearer
from tokens.models import ApiToken

JSON_ISLAND = re.compile(r"<script\b[^>]*type=\"application/json\"[^>]*>(.*?)</script>", re.S)
SCRIPT_URL = re.compile(r"""(?i)\b(href|src|action|formaction|xlink:href)\s*=\s*["']?\s*javascript:""")
ESCAPABLE = [payload for payload in XSS_PAYLOADS if any(c in payload for c in "<>\"'")]


def assert_inert(html: str, where: str) -> None:
    """No payload survives unescaped, and none became a script URL."""
    for island in JSON_ISLAND.findall(html):  # data for scripts, e.g. json_script: it must not close the element
        assert "<" not in island, f"{where}: a JSON data island holds a raw '<'"
    markup = JSON_ISLAND.sub("", html)
    for payload in ESCAPABLE:
        assert payload not in markup, f"{where}: raw {payload!r} in the HTML"
    assert not SCRIPT_URL.search(html), f"{where}: a javascript: URL in a link or form"


@pytest.fixture
def hostile(world):
    """A customer whose name, attribute values, history and registry entries all carry payloads."""
    customer = make_customer(customer_name=" | ".join(XSS_PAYLOADS), notes="\n".join(XSS_PAYLOADS))
    attributes = [make_attribute(customer, f"payload_{i}", payload) for i, payload in enumerate(XSS_PAYLOADS)]
    make_attribute(customer, "billing_method", XSS_PAYLOADS[1])
    services.attribute_update(attribute=attributes[0], value=XSS_PAYLOADS[2], actor=None)  # history: old and new
    # A name that never passed validation (legacy data written straight to the database) is escaped too.
    legacy = make_attribute(customer, "legacy_name", "v")
    Attribute.objects.filter(pk=legacy.pk).update(attribute_name=XSS_PAYLOADS[0])
    AttributeDefinition.objects.filter(pk=world.definition.pk).update(
        description=" ".join(XSS_PAYLOADS), example=XSS_PAYLOADS[1], dependent_systems=XSS_PAYLOADS[2]
    )
    AttributeDefinition.objects.create(name="payload_0", description=XSS_PAYLOADS[0], protected=True)
    return customer, attributes


@pytest.fixture
def signed_in(superuser):
    client = Client()
    client.force_login(superuser)
    return client


def _pages(customer, attributes):
    c, a = customer.pk, attributes[1].pk
    return [
        f"/customers/{c}/attributes/",
        f"/customers/{c}/",
        f"/customers/{c}/edit/",
        f"/customers/{c}/attributes/{a}/edit/",
        f"/customers/{c}/attributes/{a}/delete/",
        f"/customers/{c}/attributes/{attributes[0].pk}/delete/",  # protected: asks for the typed name
        f"/customers/{c}/attributes/history/",
        f"/customers/{c}/attributes/add/",
        "/customers/",
        "/customers/?attribute_name=payload_1&attribute_value__icontains=%3Cscript%3E",
        "/attributes/registry/",
        "/attributes/usage/",
        "/attributes/rename/",
        "/admin/attributes/attribute/",
        f"/admin/attributes/attribute/{a}/change/",
        "/admin/attributes/attributedefinition/",
        "/admin/customers/customer/",
        f"/admin/customers/customer/{c}/change/",
        "/admin/tokens/apitoken/",
        "/account/tokens/",
    ]


def test_payloads_are_escaped_on_every_page(signed_in, superuser, hostile):
    customer, attributes = hostile
    ApiToken.issue(user=superuser, name=XSS_PAYLOADS[1])
    for url in _pages(customer, attributes):
        for headers in ({}, {"HX-Request": "true", "HX-Target": "attribute-modal-content"}):
            response = signed_in.get(url, headers=headers)
            assert response.status_code == 200, f"{url}: {response.status_code}"
            assert_inert(response.text, f"{url} {headers or ''}")
            if url.endswith(("/attributes/", "/history/", "/usage/")) and not headers:
                assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text, f"{url}: the payload is not shown"


def test_payloads_are_escaped_in_the_registry_forms(signed_in, hostile, world):
    for url in (
        f"/attributes/registry/{world.definition.pk}/edit/",
        f"/attributes/registry/{world.definition.pk}/delete/",
    ):
        response = signed_in.get(url)
        assert response.status_code == 200
        assert_inert(response.text, url)


def test_reflected_query_parameters_are_escaped(signed_in, hostile):
    for payload in ESCAPABLE:
        for url in ("/customers/", "/attributes/rename/", "/attributes/registry/new/"):
            for key in ("q", "status", "attribute_name", "attribute", "old_name", "new_name", "name"):
                response = signed_in.get(url, {key: payload})
                assert response.status_code in (200, 302), url
                assert_inert(response.text, f"{url}?{key}=")


def test_payloads_are_escaped_in_the_browsable_api(signed_in, hostile):
    customer, attributes = hostile
    for url in (
        f"/crm/attribute/customer_id/{customer.pk}",
        f"/crm/attribute/attribute_id/{attributes[1].pk}",
        f"/crm/attribute/customer_id/{customer.pk}/history",
        f"/crm/customer/customer_id/{customer.pk}",
        "/crm/attribute/usage",
    ):
        response = signed_in.get(url, headers={"Accept": "text/html"})
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html")
        assert_inert(response.text, url)


def test_api_json_is_served_as_json_not_html(hostile):
    customer, _ = hostile
    response = bearer(make_user(*ALL_CODENAMES)).get(f"/crm/attribute/customer_id/{customer.pk}")

    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"


# --- CSV formula injection ----------------------------------------------------------------------------------

FORMULAS = ["=1+1", "+1", "-1", "@SUM(A1)", '=HYPERLINK("http://x")', "'=already quoted", "'plain"]


def _csv(response) -> list[dict]:
    data = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(data, newline="")))


@pytest.fixture
def formulas(world):
    customer = make_customer(customer_name="=cmd|' /C calc'!A0")
    for i, value in enumerate(FORMULAS):
        make_attribute(customer, f"formula_{i}", value)
    # Leading tab or CR cannot be written through the app (values are trimmed); legacy rows may still hold them.
    for name, value in (("tab_lead", "\t=1+1"), ("cr_lead", "\r=1+1")):
        attribute = make_attribute(customer, name, "x")
        Attribute.objects.filter(pk=attribute.pk).update(attribute_value=value)
    return customer


def _exports(customer):
    viewer = make_user("view_customer", "view_customer_attribute")
    page = Client()
    page.force_login(viewer)
    api = bearer(viewer)
    return {
        "UI customer export": page.get(f"/customers/{customer.pk}/attributes/export.csv"),
        "UI list export": page.get("/customers/attributes-export.csv", {"q": "cmd"}),
        "API export": api.get("/crm/attribute/export", {"customer_id": customer.pk}),
    }


def test_every_csv_export_defuses_formulas(formulas):
    for label, response in _exports(formulas).items():
        assert response.status_code == 200, label
        rows = {row["attribute_name"]: row for row in _csv(response)}
        for cell in [row["attribute_value"] for row in rows.values()] + [row["customer_name"] for row in rows.values()]:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), f"{label}: {cell!r} would run as a formula"
        assert rows["formula_0"]["attribute_value"] == "'=1+1"
        assert rows["tab_lead"]["attribute_value"] == "'\t=1+1"
        assert rows["cr_lead"]["attribute_value"] == "'\r=1+1"
        assert rows["formula_5"]["attribute_value"] == "''=already quoted"


def test_importing_an_export_gives_back_exactly_the_exported_values(formulas):
    exported = b"".join(_exports(formulas)["API export"].streaming_content)
    stored = dict(formulas.attributes.values_list("attribute_name", "attribute_value"))
    Attribute.objects.filter(customer=formulas, attribute_name__startswith="formula_").update(attribute_value="x")
    Attribute.objects.filter(customer=formulas, attribute_name__in=["tab_lead", "cr_lead"]).delete()
    importer = Client()
    importer.force_login(make_user("view_customer_attribute", "create_customer_attribute", "update_customer_attribute"))
    upload = io.BytesIO(exported)
    upload.name = "export.csv"

    preview = importer.post("/attributes/import/", {"file": upload})
    token = next(k for k in importer.session.keys() if k.startswith(SESSION_PREFIX)).removeprefix(SESSION_PREFIX)
    applied = importer.post("/attributes/import/", {"token": token})

    assert preview.status_code == 200 and applied.status_code == 302
    runner.run_queued()  # the import job
    after = dict(Customer.objects.get(pk=formulas.pk).attributes.values_list("attribute_name", "attribute_value"))
    for i, value in enumerate(FORMULAS):
        assert after[f"formula_{i}"] == stored[f"formula_{i}"] == value
