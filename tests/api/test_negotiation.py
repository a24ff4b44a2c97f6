"""Content negotiation (crm_project.api.FastContentNegotiation): what integrations send is answered at once, and
every other Accept or `?format=` gets what DRF's own negotiation gives."""

import pytest
from rest_framework.test import APIClient

from tests.factories import make_attribute, make_customer, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    client = APIClient()
    client.force_authenticate(make_user("view_customer_attribute"))
    return client


@pytest.mark.parametrize("accept", [None, "", "*/*", "application/json", "application/json; q=0.9, */*; q=0.1"])
def test_integrations_get_json(api, accept):
    customer = make_customer()
    make_attribute(customer, "plan", "basic")
    headers = {} if accept is None else {"Accept": accept}
    response = api.get(f"/crm/attribute/customer_id/{customer.pk}", headers=headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()[0]["attribute_value"] == "basic"


@pytest.mark.parametrize("accept,query", [("text/html", ""), (None, "?format=api"), ("*/*", "?format=api")])
def test_a_browser_or_format_gets_the_browsable_api(api, accept, query):
    customer = make_customer()
    headers = {} if accept is None else {"Accept": accept}
    response = api.get(f"/crm/attribute/customer_id/{customer.pk}{query}", headers=headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_an_unacceptable_type_is_still_406(api):
    customer = make_customer()
    response = api.get(f"/crm/attribute/customer_id/{customer.pk}", headers={"Accept": "application/xml"})
    assert response.status_code == 406
