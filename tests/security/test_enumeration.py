"""Ids give nothing away: another customer's attribute is refused where a customer is named, and users who may
not view attributes get the same answer for an id that exists as for one that does not.
"""

import pytest
from django.test import Client

from attributes.models import Attribute
from tests.factories import attribute_rows, make_user
from tests.security.conftest import ALL_CODENAMES, bearer

MISSING = 987_654_321


@pytest.fixture
def ui(world):
    client = Client()
    client.force_login(make_user(*ALL_CODENAMES))
    return client


@pytest.mark.parametrize("action", ["edit", "delete"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_customers_attribute_is_404_under_this_customer(ui, world, action, method):
    before = attribute_rows()
    url = f"/customers/{world.customer.pk}/attributes/{world.other_attribute.pk}/{action}/"
    data = {"attribute_name": "vlan_id", "attribute_value": "hijacked"} if method == "post" else None

    response = getattr(ui, method)(url, data) if data else getattr(ui, method)(url)

    assert response.status_code == 404
    assert attribute_rows() == before


def test_another_customers_history_row_cannot_be_restored_under_this_customer(ui, world):
    other_history = Attribute.history.filter(attribute_id=world.other_attribute.pk).first()
    Attribute.objects.filter(pk=world.other_attribute.pk).delete()
    before = attribute_rows()

    response = ui.post(f"/customers/{world.customer.pk}/attributes/history/{other_history.history_id}/restore/")

    assert response.status_code == 404
    assert attribute_rows() == before


def test_api_patch_naming_another_customer_is_400_and_changes_nothing(world):
    api = bearer(make_user(*ALL_CODENAMES))
    before = attribute_rows()

    response = api.patch(
        f"/crm/attribute/attribute_id/{world.attribute.pk}",
        {"customer_id": world.other_customer.pk, "attribute_value": "x"},
        format="json",
    )

    assert response.status_code == 400
    assert attribute_rows() == before


def _id_urls(world, attribute_id: int, customer_id: int, history_id: int) -> list[tuple[str, str]]:
    """Every endpoint that takes an id, UI and API, with the given ids filled in."""
    c, a, h = customer_id, attribute_id, history_id
    return [
        ("get", f"/customers/{c}/"),
        ("get", f"/customers/{c}/edit/"),
        ("post", f"/customers/{c}/edit/"),
        ("get", f"/customers/{c}/delete/"),
        ("post", f"/customers/{c}/delete/"),
        ("get", f"/customers/{c}/attributes/"),
        ("get", f"/customers/{c}/attributes/export.csv"),
        ("get", f"/customers/{c}/attributes/add/"),
        ("get", f"/customers/{c}/attributes/history/"),
        ("post", f"/customers/{c}/attributes/history/{h}/restore/"),
        ("get", f"/customers/{world.customer.pk}/attributes/{a}/edit/"),
        ("post", f"/customers/{world.customer.pk}/attributes/{a}/edit/"),
        ("get", f"/customers/{world.customer.pk}/attributes/{a}/delete/"),
        ("post", f"/customers/{world.customer.pk}/attributes/{a}/delete/"),
        ("get", f"/crm/attribute/attribute_id/{a}"),
        ("patch", f"/crm/attribute/attribute_id/{a}"),
        ("delete", f"/crm/attribute/attribute_id/{a}"),
        ("get", f"/crm/attribute/attribute_id/{a}/history"),
        ("get", f"/crm/attribute/customer_id/{c}"),
        ("get", f"/crm/attribute/customer_id/{c}/history"),
        ("get", f"/crm/customer/customer_id/{c}"),
        ("patch", f"/crm/customer/customer_id/{c}"),
        ("delete", f"/crm/customer/customer_id/{c}"),
        ("get", f"/crm/attribute/export?customer_id={c}"),
    ]


@pytest.mark.parametrize("who", ["no permissions", "Support"])
def test_users_without_the_permission_get_the_same_answer_for_existing_and_missing_ids(world, who):
    """Support may view but not change: its refusals of writes must not tell existing ids from missing ones either."""
    user = make_user() if who == "no permissions" else make_user(groups=(who,))
    page = Client()
    page.force_login(user)
    api = bearer(user)
    existing = _id_urls(world, world.attribute.pk, world.customer.pk, world.history_id)
    missing = _id_urls(world, MISSING, MISSING, MISSING)
    before = attribute_rows()
    differences = []
    for (method, real_url), (_, missing_url) in zip(existing, missing, strict=True):
        client = api if real_url.startswith("/crm/") else page
        send = getattr(client, method)
        real, fake = send(real_url), send(missing_url)
        if real.status_code < 400:
            continue  # a view this user is allowed: existence is theirs to see
        if real.status_code != fake.status_code or real.status_code not in (403, 404, 405):
            differences.append(
                f"{method.upper()} {real_url} -> {real.status_code}, {missing_url} -> {fake.status_code}"
            )
    assert not differences, "\n".join(differences)
    assert attribute_rows() == before
