import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.factories import bearer_client, make_customer, make_user, make_attribute

@pytest.mark.django_db(transaction=True)
def test_probe():
    c = make_customer()
    make_attribute(c, "a", "1")
    api = bearer_client(make_user("view_customer_attribute", "create_customer_attribute", "update_customer_attribute"))
    api.get(f"/crm/attribute/customer_id/{c.pk}")
    for label, call in [("list", lambda: api.get(f"/crm/attribute/customer_id/{c.pk}")),
                        ("put-new", lambda: api.put("/crm/attribute/", {"customer_id": c.pk, "attribute_name": "b", "attribute_value": "x"}, format="json")),
                        ("put-upd", lambda: api.put("/crm/attribute/", {"customer_id": c.pk, "attribute_name": "b", "attribute_value": "y"}, format="json"))]:
        with CaptureQueriesContext(connection) as q:
            r = call()
        print("\n==", label, r.status_code, len(q.captured_queries))
        for x in q.captured_queries:
            print("   ", x["sql"][:220])
