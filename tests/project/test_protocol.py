"""HTTP protocol points: JSON 404s under /crm/, private caching of signed-in responses, strong If-Match and a
form version that cannot skip the stale check."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from attributes.models import Attribute
from tests.factories import bearer_client, make_user

EVERY_ATTRIBUTE_PERM = (
    "view_customer",
    "view_customer_attribute",
    "create_customer_attribute",
    "update_customer_attribute",
    "delete_customer_attribute",
)


@pytest.fixture
def signed_in(db):
    client = Client()
    client.force_login(make_user(*EVERY_ATTRIBUTE_PERM))
    return client


# --- 404 under /crm/ ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/crm/nothing-here", "/crm/attribute/nope/", "/crm/customer/customer_id/x"])
def test_unknown_api_paths_answer_a_json_404(path, db):
    for client in (APIClient(), bearer_client(make_user())):
        response = client.get(path, headers={"Accept": "text/html"})

        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Not found."}


def test_unknown_page_paths_keep_the_html_404(signed_in):
    response = signed_in.get("/nothing-here/", headers={"Accept": "text/html"})

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# --- Cache-Control --------------------------------------------------------------------------------------------


def _cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def test_signed_in_pages_csv_and_json_are_never_stored(signed_in, attribute):
    customer = attribute.customer_id
    for path in (
        "/customers/",
        f"/customers/{customer}/attributes/",
        "/customers/attributes-export.csv",
        f"/crm/attribute/customer_id/{customer}",
        "/account/tokens/",
    ):
        response = signed_in.get(path)

        assert response.status_code == 200, path
        assert {"private", "no-store"} <= _cache_control(response), path


def test_bearer_token_responses_are_never_stored(attribute):
    client = bearer_client(make_user(*EVERY_ATTRIBUTE_PERM))
    for path in (f"/crm/attribute/attribute_id/{attribute.pk}", "/crm/attribute/export", "/crm/customer/"):
        response = client.get(path)

        assert response.status_code < 300, path
        assert {"private", "no-store"} <= _cache_control(response), path
    refused = APIClient(headers={"Authorization": "Bearer wrong"}).get("/crm/customer/")
    assert refused.status_code == 401
    assert "no-store" in _cache_control(refused)


def test_public_anonymous_responses_stay_cacheable(db):
    response = APIClient().get("/crm/schema/")

    assert response.status_code == 200
    assert not {"private", "no-store"} & _cache_control(response)


def test_an_etag_is_still_sent_with_private_responses(attribute):
    response = bearer_client(make_user(*EVERY_ATTRIBUTE_PERM)).get(f"/crm/attribute/attribute_id/{attribute.pk}")

    assert response["ETag"] == attribute.etag


# --- If-Match: strong comparison ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_weak_if_match_never_matches(method, attribute):
    client = bearer_client(make_user(*EVERY_ATTRIBUTE_PERM))
    path = f"/crm/attribute/attribute_id/{attribute.pk}"
    body = {"attribute_value": "changed"} if method == "patch" else None

    response = getattr(client, method)(path, body, format="json", headers={"If-Match": f"W/{attribute.etag}"})

    assert response.status_code == 412
    assert Attribute.objects.get(pk=attribute.pk).attribute_value == "SF-12345"


def test_weak_if_match_on_an_updating_put_never_matches(attribute):
    client = bearer_client(make_user(*EVERY_ATTRIBUTE_PERM))
    item = {"customer_id": attribute.customer_id, "attribute_name": "external_crm_id", "attribute_value": "new"}

    response = client.put("/crm/attribute/", item, format="json", headers={"If-Match": f"W/{attribute.etag}"})

    assert response.status_code == 412
    assert Attribute.objects.get(pk=attribute.pk).attribute_value == "SF-12345"


def test_strong_if_match_still_matches(attribute):
    client = bearer_client(make_user(*EVERY_ATTRIBUTE_PERM))

    response = client.patch(
        f"/crm/attribute/attribute_id/{attribute.pk}",
        {"attribute_value": "changed"},
        format="json",
        headers={"If-Match": f'"nope", {attribute.etag}'},
    )

    assert response.status_code == 200


# --- the Attributes tab's hidden version ------------------------------------------------------------------


def _version_values(attribute):
    return ["*", f"W/{attribute.etag}", '"made-up"', "garbage"]


def test_edit_form_version_that_is_not_an_etag_is_treated_as_stale(signed_in, attribute):
    path = f"/customers/{attribute.customer_id}/attributes/{attribute.pk}/edit/"
    for version in _version_values(attribute):
        response = signed_in.post(
            path, {"attribute_name": "external_crm_id", "attribute_value": "overwritten", "version": version}
        )

        assert response.status_code == 200, version  # the form again, showing the stored value
        assert Attribute.objects.get(pk=attribute.pk).attribute_value == "SF-12345", version


def test_delete_form_version_that_is_not_an_etag_is_treated_as_stale(signed_in, attribute):
    path = f"/customers/{attribute.customer_id}/attributes/{attribute.pk}/delete/"
    for version in _version_values(attribute):
        response = signed_in.post(path, {"version": version})

        assert response.status_code == 200, version
        assert Attribute.objects.filter(pk=attribute.pk).exists(), version


def test_edit_and_delete_forms_with_the_shown_version_work(signed_in, attribute):
    base = f"/customers/{attribute.customer_id}/attributes/{attribute.pk}"
    edited = signed_in.post(
        f"{base}/edit/", {"attribute_name": "external_crm_id", "attribute_value": "new", "version": attribute.etag}
    )
    assert edited.status_code == 302
    attribute.refresh_from_db()

    deleted = signed_in.post(f"{base}/delete/", {"version": attribute.etag})

    assert deleted.status_code == 302
    assert not Attribute.objects.filter(pk=attribute.pk).exists()


def test_if_match_star_matches_an_existing_attribute(attribute):
    client = bearer_client(make_user(*EVERY_ATTRIBUTE_PERM))

    response = client.patch(
        f"/crm/attribute/attribute_id/{attribute.pk}",
        {"attribute_value": "changed"},
        format="json",
        headers={"If-Match": " * "},
    )

    assert response.status_code == 200
    assert Attribute.objects.get(pk=attribute.pk).attribute_value == "changed"


def test_if_match_star_on_a_creating_put_is_412(attribute):
    client = bearer_client(make_user(*EVERY_ATTRIBUTE_PERM))
    item = {"customer_id": attribute.customer_id, "attribute_name": "brand_new", "attribute_value": "x"}

    response = client.put("/crm/attribute/", item, format="json", headers={"If-Match": "*"})

    assert response.status_code == 412
    assert not Attribute.objects.filter(attribute_name="brand_new").exists()


@pytest.mark.parametrize("header", ["", "garbage", 'W/"x", nope'])
def test_if_match_without_a_valid_strong_tag_is_412(attribute, header):
    client = bearer_client(make_user(*EVERY_ATTRIBUTE_PERM))

    response = client.delete(f"/crm/attribute/attribute_id/{attribute.pk}", headers={"If-Match": header})

    assert response.status_code == 412
    assert Attribute.objects.filter(pk=attribute.pk).exists()
