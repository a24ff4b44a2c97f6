"""The specification's Python examples, run against a live server with the `requests` library.

The example code below is the specification's, line for line; only the base URL
(`https://api.example.com`) and the token (`YOUR_TOKEN`) are replaced before it runs. Where the
specification writes an HTTP call as pseudo-code (`PUT /crm/attribute/ {...}`,
`attributes = GET /crm/attribute/customer_id/123`), the call is made with `requests` in the style of
its bulk example and the Python around it is kept as written.

The "query customers" example sends no Authorization header; the server requires one, so that
example runs with `requests` bound to a `requests.Session` that carries the token, leaving its code
unchanged.
"""

import pytest
import requests as requests_library

from attributes.models import Attribute
from customers.models import Customer
from tests.factories import make_attribute, make_customer, make_user
from tokens.models import ApiToken

# Sequences restart, so the example's customer 123 never collides with a sequence-assigned id.
pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True)

SPEC_BASE_URL = "https://api.example.com"

BULK_EXAMPLE = """
import requests
customer_id = 123
attributes = [
    {"attribute_name": "external_crm_id", "attribute_value": "SF-12345"},
    {"attribute_name": "billing_method", "attribute_value": "quarterly"},
    {"attribute_name": "support_tier", "attribute_value": "premium"}
]
for attr in attributes:
    attr["customer_id"] = customer_id
    requests.put(
        "https://api.example.com/crm/attribute/",
        json=attr,
        headers={"Authorization": "Bearer YOUR_TOKEN"}
    )
"""

# "Custom Billing Rules": `PUT /crm/attribute/ {...}` as a requests call.
SET_QUARTERLY_BILLING = """
import requests
# Set quarterly billing
requests.put(
    "https://api.example.com/crm/attribute/",
    json={
        "customer_id": 123,
        "attribute_name": "billing_cycle",
        "attribute_value": "quarterly"
    },
    headers={"Authorization": "Bearer YOUR_TOKEN"}
)
"""

# "Then in billing code": `attributes = GET /crm/attribute/customer_id/123` as a requests call, then the
# specification's lookup with its default, verbatim.
BILLING_LOOKUP = """
import requests
attributes = requests.get(
    "https://api.example.com/crm/attribute/customer_id/123",
    headers={"Authorization": "Bearer YOUR_TOKEN"}
).json()
billing_cycle = next(
    (a['attribute_value'] for a in attributes if a['attribute_name'] == 'billing_cycle'),
    'monthly' # default
)
"""

QUERY_BY_ATTRIBUTE_EXAMPLE = """
# Get all customers, then filter by attribute in application code
customers = requests.get("https://api.example.com/crm/customer/").json()
for customer in customers:
    attributes = requests.get(
        f"https://api.example.com/crm/attribute/customer_id/{customer['customer_id']}"
    ).json()
    # Find customers with specific attribute
    for attr in attributes:
        if attr['attribute_name'] == 'support_tier' and attr['attribute_value'] == 'premium':
            print(f"Premium customer: {customer['customer_name']}")
"""


@pytest.fixture
def integration(live_server):
    """A live server, the specification's customer 123, and a token with the attribute and customer permissions."""
    user = make_user(
        "view_customer",
        "view_customer_attribute",
        "create_customer_attribute",
        "update_customer_attribute",
    )
    _, raw = ApiToken.issue(user=user, name="spec examples")
    customer = Customer.objects.create(customer_id=123, customer_name="Acme Fiber Ltd")
    return {"url": live_server.url, "token": raw, "customer": customer}


def run_example(source: str, integration: dict, **namespace) -> dict:
    """Run example code with only the base URL and the token replaced; return its variables."""
    assert SPEC_BASE_URL in source
    code = source.replace(SPEC_BASE_URL, integration["url"]).replace("YOUR_TOKEN", integration["token"])
    exec(compile(code, "<specification example>", "exec"), namespace)
    return namespace


def attribute_values(customer) -> dict[str, str]:
    return dict(Attribute.objects.filter(customer=customer).values_list("attribute_name", "attribute_value"))


def test_bulk_example_sets_the_three_attributes(integration):
    run_example(BULK_EXAMPLE, integration)

    assert attribute_values(integration["customer"]) == {
        "external_crm_id": "SF-12345",
        "billing_method": "quarterly",
        "support_tier": "premium",
    }


def test_bulk_example_run_again_updates_in_place(integration):
    run_example(BULK_EXAMPLE, integration)
    ids = set(Attribute.objects.values_list("pk", flat=True))

    run_example(BULK_EXAMPLE.replace('"SF-12345"', '"SF-54321"'), integration)

    assert set(Attribute.objects.values_list("pk", flat=True)) == ids
    assert attribute_values(integration["customer"])["external_crm_id"] == "SF-54321"


def test_billing_lookup_defaults_to_monthly_then_finds_quarterly(integration):
    before = run_example(BILLING_LOOKUP, integration)
    run_example(SET_QUARTERLY_BILLING, integration)
    after = run_example(BILLING_LOOKUP, integration)

    assert before["billing_cycle"] == "monthly"
    assert after["billing_cycle"] == "quarterly"
    assert attribute_values(integration["customer"]) == {"billing_cycle": "quarterly"}


def test_billing_lookup_ignores_other_attributes(integration):
    make_attribute(integration["customer"], "billing_method", "annual")

    assert run_example(BILLING_LOOKUP, integration)["billing_cycle"] == "monthly"


def test_query_customers_by_attribute_example_prints_the_premium_customers(integration, capsys):
    run_example(BULK_EXAMPLE, integration)  # customer 123 becomes premium
    make_attribute(make_customer(customer_name="Beta Broadband"), "support_tier", "standard")
    make_attribute(make_customer(customer_name="Gamma Telecom"), "support_tier", "premium")
    make_attribute(make_customer(customer_name="Delta Wireless"), "billing_method", "premium")
    make_customer(customer_name="Epsilon Cable")
    session = requests_library.Session()
    session.headers["Authorization"] = f"Bearer {integration['token']}"

    run_example(QUERY_BY_ATTRIBUTE_EXAMPLE, integration, requests=session)

    printed = capsys.readouterr().out.splitlines()
    assert sorted(printed) == ["Premium customer: Acme Fiber Ltd", "Premium customer: Gamma Telecom"]


def test_query_example_without_a_token_is_refused_not_answered(integration):
    # As printed, the example sends no credentials: the server must not answer it with customer data.
    response = requests_library.get(f"{integration['url']}/crm/customer/", timeout=30)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
