"""The customer list counts and pages through at most COUNT_CAP customers: deep pages stay cheap."""

import pytest

from crm_project import paging
from tests.factories import make_customer


@pytest.mark.django_db
def test_customer_list_deep_pages_are_bounded(login, client, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 50)
    for i in range(60):
        make_customer(customer_name=f"Customer {i:03}")
    login("view_customer")

    last = client.get("/customers/", {"page": "2"})  # 50 counted, 25 a page: the last page there is
    beyond = client.get("/customers/", {"page": "4000"})

    assert last.status_code == 200
    assert "50+ customers" in last.text
    assert beyond.status_code == 404  # no OFFSET 99975 read to find out
