"""Django admin: the Attribute admin and the inline on the customer page, both held to the same rules."""

import pytest
from django.urls import reverse

from attributes.models import Attribute
from tests.factories import make_attribute, make_customer, make_user

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:attributes_attribute_changelist"
ADD = "admin:attributes_attribute_add"


def change_url(attribute) -> str:
    return reverse("admin:attributes_attribute_change", args=[attribute.pk])


def customer_change_url(customer) -> str:
    return reverse("admin:customers_customer_change", args=[customer.pk])


def form_errors(response) -> str:
    return " ".join(str(error) for errors in response.context["adminform"].form.errors.values() for error in errors)


def values(customer) -> dict[str, str]:
    return dict(Attribute.objects.filter(customer=customer).values_list("attribute_name", "attribute_value"))


# --- Attribute admin --------------------------------------------------------------------------------------------


def test_changelist_lists_attributes_with_search_and_filter(admin_client_, customer):
    make_attribute(customer, "billing_method", "quarterly")
    make_attribute(customer, "external_crm_id", "SF-12345")
    make_attribute(make_customer(), "billing_method", "monthly")

    response = admin_client_.get(reverse(CHANGELIST))

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 3
    assert "By attribute name" in response.text
    assert "?attribute_name=billing_method" in response.text


def test_changelist_search_matches_names_and_values(admin_client_, customer):
    make_attribute(customer, "billing_method", "quarterly")
    make_attribute(customer, "external_crm_id", "SF-12345")

    by_value = admin_client_.get(reverse(CHANGELIST), {"q": "SF-123"})
    by_name = admin_client_.get(reverse(CHANGELIST), {"q": "billing"})

    assert [a.attribute_name for a in by_value.context["cl"].result_list] == ["external_crm_id"]
    assert [a.attribute_name for a in by_name.context["cl"].result_list] == ["billing_method"]


def test_changelist_filter_by_name(admin_client_, customer):
    make_attribute(customer, "billing_method", "quarterly")
    make_attribute(customer, "external_crm_id", "SF-12345")
    make_attribute(make_customer(), "billing_method", "monthly")

    response = admin_client_.get(reverse(CHANGELIST), {"attribute_name": "billing_method"})

    assert response.status_code == 200
    assert sorted(a.attribute_value for a in response.context["cl"].result_list) == ["monthly", "quarterly"]


def test_admin_add_creates_an_attribute(admin_client_, customer):
    response = admin_client_.post(
        reverse(ADD), {"customer": customer.pk, "attribute_name": "vlan_id", "attribute_value": " 100 "}
    )

    assert response.status_code == 302
    assert values(customer) == {"vlan_id": "100"}


def test_admin_add_rejects_a_151_character_value(admin_client_, customer):
    response = admin_client_.post(
        reverse(ADD), {"customer": customer.pk, "attribute_name": "note", "attribute_value": "x" * 151}
    )

    assert response.status_code == 200
    assert "150" in form_errors(response)
    assert not Attribute.objects.exists()


def test_admin_add_form_has_no_maxlength_on_the_value(admin_client_):
    response = admin_client_.get(reverse(ADD))

    widget_html = str(response.context["adminform"].form["attribute_value"])
    assert 'name="attribute_value"' in widget_html
    assert "maxlength" not in widget_html


def test_admin_add_rejects_a_bad_name_with_a_suggestion(admin_client_, customer):
    response = admin_client_.post(
        reverse(ADD), {"customer": customer.pk, "attribute_name": "External System ID", "attribute_value": "SF-1"}
    )

    assert response.status_code == 200
    assert "e.g. external_system_id" in form_errors(response)
    assert not Attribute.objects.exists()


@pytest.mark.parametrize(("value", "message"), [("a\x01b", "control characters"), ("a\x85b", "control characters")])
def test_admin_add_rejects_a_control_character(admin_client_, customer, value, message):
    response = admin_client_.post(
        reverse(ADD), {"customer": customer.pk, "attribute_name": "note", "attribute_value": value}
    )

    assert response.status_code == 200
    assert message in form_errors(response)
    assert not Attribute.objects.exists()


def test_admin_add_with_a_nul_character_is_a_400(admin_client_, customer):
    """NUL in any form field is refused before the view (crm_project.input_guard): PostgreSQL cannot store it."""
    response = admin_client_.post(
        reverse(ADD), {"customer": customer.pk, "attribute_name": "note", "attribute_value": "a\x00b"}
    )

    assert response.status_code == 400
    assert not Attribute.objects.exists()


def test_admin_add_of_an_existing_name_is_refused(admin_client_, attribute):
    response = admin_client_.post(
        reverse(ADD),
        {"customer": attribute.customer_id, "attribute_name": "external_crm_id", "attribute_value": "SF-9"},
    )

    assert response.status_code == 200
    assert "already exists" in form_errors(response)
    assert values(attribute.customer) == {"external_crm_id": "SF-12345"}


def test_admin_change_updates_the_value(admin_client_, attribute):
    response = admin_client_.post(
        change_url(attribute),
        {"customer": attribute.customer_id, "attribute_name": "external_crm_id", "attribute_value": "SF-9"},
    )

    assert response.status_code == 302
    stored = Attribute.objects.get(pk=attribute.pk)
    assert stored.attribute_value == "SF-9"
    assert stored.last_modified > attribute.last_modified


def test_admin_change_rejects_a_rename_onto_an_existing_name(admin_client_, attribute):
    other = make_attribute(attribute.customer, "legacy_system_id", "OLD-1")

    response = admin_client_.post(
        change_url(other),
        {"customer": attribute.customer_id, "attribute_name": "external_crm_id", "attribute_value": "OLD-1"},
    )

    assert response.status_code == 200
    assert values(attribute.customer) == {"external_crm_id": "SF-12345", "legacy_system_id": "OLD-1"}


def test_admin_delete_removes_the_attribute(admin_client_, attribute):
    response = admin_client_.post(reverse("admin:attributes_attribute_delete", args=[attribute.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not Attribute.objects.exists()


def test_admin_bulk_delete_action_removes_the_selected_attributes(admin_client_, customer):
    first = make_attribute(customer, "billing_method", "quarterly")
    second = make_attribute(customer, "vlan_id", "100")
    kept = make_attribute(customer, "support_tier", "premium")

    admin_client_.post(
        reverse(CHANGELIST),
        {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
    )

    assert list(Attribute.objects.all()) == [kept]


# --- the inline on the customer admin page -------------------------------------------------------------------------


def customer_form_data(customer, rows: list[dict], initial: int) -> dict:
    data = {
        "customer_name": customer.customer_name,
        "customer_account_type": customer.customer_account_type,
        "customer_status": customer.customer_status,
        "email": customer.email,
        "phone": customer.phone,
        "notes": customer.notes,
        "attributes-TOTAL_FORMS": str(len(rows)),
        "attributes-INITIAL_FORMS": str(initial),
        "attributes-MIN_NUM_FORMS": "0",
        "attributes-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"attributes-{index}-{key}": value for key, value in row.items()})
    return data


def test_customer_admin_page_shows_the_attributes_inline(admin_client_, attribute):
    response = admin_client_.get(customer_change_url(attribute.customer))

    assert response.status_code == 200
    assert 'name="attributes-0-attribute_name"' in response.text
    assert 'value="SF-12345"' in response.text


def test_inline_edit_saves_the_new_value(admin_client_, attribute):
    customer = attribute.customer
    row = {
        "attribute_id": attribute.pk,
        "customer": customer.pk,
        "attribute_name": "external_crm_id",
        "attribute_value": "SF-777",
    }

    response = admin_client_.post(customer_change_url(customer), customer_form_data(customer, [row], initial=1))

    assert response.status_code == 302
    assert list(Attribute.objects.values_list("attribute_id", "attribute_value")) == [(attribute.pk, "SF-777")]


def test_inline_adds_a_new_attribute(admin_client_, attribute):
    customer = attribute.customer
    rows = [
        {
            "attribute_id": attribute.pk,
            "customer": customer.pk,
            "attribute_name": "external_crm_id",
            "attribute_value": "SF-12345",
        },
        {"attribute_id": "", "customer": customer.pk, "attribute_name": "vlan_id", "attribute_value": "100"},
    ]

    response = admin_client_.post(customer_change_url(customer), customer_form_data(customer, rows, initial=1))

    assert response.status_code == 302
    assert values(customer) == {"external_crm_id": "SF-12345", "vlan_id": "100"}


def test_inline_rejects_a_151_character_value_and_saves_nothing(admin_client_, attribute):
    customer = attribute.customer
    row = {
        "attribute_id": attribute.pk,
        "customer": customer.pk,
        "attribute_name": "external_crm_id",
        "attribute_value": "x" * 151,
    }
    data = customer_form_data(customer, [row], initial=1)
    data["customer_name"] = "Renamed Customer"

    response = admin_client_.post(customer_change_url(customer), data)

    assert response.status_code == 200
    assert "150" in str(response.context["inline_admin_formsets"][0].formset.errors)
    assert values(customer) == {"external_crm_id": "SF-12345"}
    customer.refresh_from_db()
    assert customer.customer_name == "Acme Fiber Ltd"


def test_inline_rejects_a_bad_name(admin_client_, customer):
    row = {"attribute_id": "", "customer": customer.pk, "attribute_name": "Support Tier", "attribute_value": "gold"}

    response = admin_client_.post(customer_change_url(customer), customer_form_data(customer, [row], initial=0))

    assert response.status_code == 200
    assert "e.g. support_tier" in str(response.context["inline_admin_formsets"][0].formset.errors)
    assert values(customer) == {}


def test_inline_delete_removes_the_attribute(admin_client_, attribute):
    customer = attribute.customer
    row = {
        "attribute_id": attribute.pk,
        "customer": customer.pk,
        "attribute_name": "external_crm_id",
        "attribute_value": "SF-12345",
        "DELETE": "on",
    }

    response = admin_client_.post(customer_change_url(customer), customer_form_data(customer, [row], initial=1))

    assert response.status_code == 302
    assert values(customer) == {}


# --- admin access follows the four attribute permissions -----------------------------------------------------------


@pytest.fixture
def view_only_staff_client(client):
    client.force_login(make_user("view_customer_attribute", is_staff=True))
    return client


def test_staff_with_view_permission_sees_the_changelist_and_the_attribute(view_only_staff_client, attribute):
    changelist = view_only_staff_client.get(reverse(CHANGELIST))
    detail = view_only_staff_client.get(change_url(attribute))

    assert changelist.status_code == 200
    assert list(changelist.context["cl"].result_list) == [attribute]
    assert detail.status_code == 200
    assert "SF-12345" in detail.text
    assert 'name="_save"' not in detail.text


def test_staff_with_view_permission_cannot_add(view_only_staff_client, customer):
    page = view_only_staff_client.get(reverse(ADD))
    post = view_only_staff_client.post(
        reverse(ADD), {"customer": customer.pk, "attribute_name": "vlan_id", "attribute_value": "100"}
    )

    assert page.status_code == 403
    assert post.status_code == 403
    assert not Attribute.objects.exists()


def test_staff_with_view_permission_cannot_change_or_delete(view_only_staff_client, attribute):
    change = view_only_staff_client.post(
        change_url(attribute),
        {"customer": attribute.customer_id, "attribute_name": "external_crm_id", "attribute_value": "SF-9"},
    )
    delete = view_only_staff_client.post(
        reverse("admin:attributes_attribute_delete", args=[attribute.pk]), {"post": "yes"}
    )

    assert change.status_code == 403
    assert delete.status_code == 403
    assert values(attribute.customer) == {"external_crm_id": "SF-12345"}


def test_staff_without_attribute_permissions_cannot_see_the_attribute_admin(client, attribute):
    client.force_login(make_user("view_customer", is_staff=True))

    response = client.get(reverse(CHANGELIST))

    assert response.status_code == 403


def test_staff_with_create_permission_can_add_through_admin(client, customer):
    client.force_login(make_user("view_customer_attribute", "create_customer_attribute", is_staff=True))

    response = client.post(
        reverse(ADD), {"customer": customer.pk, "attribute_name": "vlan_id", "attribute_value": "100"}
    )

    assert response.status_code == 302
    assert values(customer) == {"vlan_id": "100"}


def test_attribute_permissions_can_be_assigned_to_a_group_in_admin(admin_client_):
    from django.contrib.auth.models import Group, Permission

    perm = Permission.objects.get(content_type__app_label="attributes", codename="delete_customer_attribute")

    response = admin_client_.post(reverse("admin:auth_group_add"), {"name": "Auditors", "permissions": [perm.pk]})

    assert response.status_code == 302
    assert list(Group.objects.get(name="Auditors").permissions.all()) == [perm]


def test_staff_with_view_permission_sees_attributes_read_only_on_the_customer_page(client, attribute):
    client.force_login(make_user("view_customer", "view_customer_attribute", is_staff=True))

    response = client.get(customer_change_url(attribute.customer))

    assert response.status_code == 200
    assert "SF-12345" in response.text
    assert 'name="attributes-0-attribute_value"' not in response.text


def test_customer_editor_without_attribute_write_permissions_can_still_save_the_customer(client, attribute):
    customer = attribute.customer
    client.force_login(make_user("view_customer", "change_customer", "view_customer_attribute", is_staff=True))
    data = customer_form_data(customer, [], initial=0)
    data.update({"attributes-TOTAL_FORMS": "1", "attributes-INITIAL_FORMS": "1"})
    data["attributes-0-attribute_id"] = attribute.pk
    data["attributes-0-customer"] = customer.pk
    data["customer_name"] = "Acme Fibre Limited"

    response = client.post(customer_change_url(customer), data)

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.customer_name == "Acme Fibre Limited"
    assert values(customer) == {"external_crm_id": "SF-12345"}


# --- refusals by the service are admin errors, and change nothing --------------------------------------------------


@pytest.fixture
def protected(customer):
    from tests.registry.conftest import define

    define("billing_account_id", protected=True)
    return make_attribute(customer, "billing_account_id", "BA-1")


def error_messages(response) -> list[str]:
    from django.contrib.messages import get_messages

    return [m.message for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


def test_admin_delete_page_of_a_protected_name_is_refused_with_a_message(admin_client_, protected):
    from django.contrib.admin.models import LogEntry

    response = admin_client_.post(reverse("admin:attributes_attribute_delete", args=[protected.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert any("“billing_account_id” is protected" in m for m in error_messages(response))
    assert Attribute.objects.filter(pk=protected.pk).exists()
    assert not LogEntry.objects.exists()  # the deletion's log entry went with the rolled-back request


def test_admin_delete_selected_with_a_protected_name_deletes_nothing(admin_client_, customer):
    from tests.registry.conftest import define

    first = make_attribute(customer, "billing_method", "quarterly")  # deleted before the refusal, then rolled back
    define("billing_account_id", protected=True)
    protected = make_attribute(customer, "billing_account_id", "BA-1")

    response = admin_client_.post(
        reverse(CHANGELIST), {"action": "delete_selected", "_selected_action": [first.pk, protected.pk], "post": "yes"}
    )

    assert response.status_code == 302
    assert any("“billing_account_id” is protected" in m for m in error_messages(response))
    assert values(customer) == {"billing_account_id": "BA-1", "billing_method": "quarterly"}


def test_inline_delete_of_a_protected_row_is_refused_and_the_customer_is_unchanged(admin_client_, protected):
    customer = protected.customer
    row = {"attribute_id": protected.pk, "customer": customer.pk, "attribute_name": "billing_account_id",
           "attribute_value": "BA-1", "DELETE": "on"}  # fmt: skip
    data = customer_form_data(customer, [row], initial=1)
    data["customer_name"] = "Renamed Customer"

    response = admin_client_.post(customer_change_url(customer), data)

    assert response.status_code == 302
    assert any("“billing_account_id” is protected" in m for m in error_messages(response))
    assert values(customer) == {"billing_account_id": "BA-1"}
    customer.refresh_from_db()
    assert customer.customer_name == "Acme Fiber Ltd"


def test_inline_swap_of_two_names_is_refused_and_changes_nothing(admin_client_, customer):
    a = make_attribute(customer, "rn_x", "1")
    b = make_attribute(customer, "rn_y", "2")
    rows = [
        {"attribute_id": a.pk, "customer": customer.pk, "attribute_name": "rn_y", "attribute_value": "1"},
        {"attribute_id": b.pk, "customer": customer.pk, "attribute_name": "rn_x", "attribute_value": "2"},
    ]

    response = admin_client_.post(customer_change_url(customer), customer_form_data(customer, rows, initial=2))

    assert response.status_code == 302
    assert any("already has an attribute named “rn_y”" in m for m in error_messages(response))
    assert values(customer) == {"rn_x": "1", "rn_y": "2"}


def test_admin_rename_of_a_protected_name_needs_the_confirmation(admin_client_, protected):
    data = {"attribute_name": "zz_gone", "attribute_value": "BA-1"}

    refused = admin_client_.post(change_url(protected), data)
    confirmed = admin_client_.post(change_url(protected), {**data, "confirm": "billing_account_id"})

    assert refused.status_code == 302
    assert refused.url == change_url(protected)
    assert any("type its name to confirm the rename" in m for m in error_messages(refused))
    assert confirmed.status_code == 302
    assert confirmed.url == reverse(CHANGELIST)  # saved: a refusal returns to the change page
    assert values(protected.customer) == {"zz_gone": "BA-1"}


def test_admin_rename_of_a_protected_name_without_delete_permission_is_refused(client, protected):
    client.force_login(make_user("view_customer_attribute", "update_customer_attribute", is_staff=True))

    response = client.post(
        change_url(protected), {"attribute_name": "zz_gone", "attribute_value": "BA-1", "confirm": "billing_account_id"}
    )

    assert response.status_code == 302
    assert error_messages(response)
    assert values(protected.customer) == {"billing_account_id": "BA-1"}


# --- the customer of an attribute is fixed once created ------------------------------------------------------------


def test_admin_change_page_shows_the_customer_read_only(admin_client_, attribute):
    response = admin_client_.get(change_url(attribute))

    assert response.status_code == 200
    assert 'name="customer"' not in response.text
    assert "Acme Fiber Ltd" in response.text


def test_admin_change_cannot_move_an_attribute_to_another_customer(admin_client_, attribute):
    other = make_customer()

    response = admin_client_.post(
        change_url(attribute),
        {"customer": other.pk, "attribute_name": "external_crm_id", "attribute_value": "SF-12345"},
    )

    assert response.status_code == 302
    assert Attribute.objects.get(pk=attribute.pk).customer_id == attribute.customer_id
    assert not Attribute.objects.filter(customer=other).exists()


def test_admin_add_page_still_asks_for_the_customer(admin_client_):
    response = admin_client_.get(reverse(ADD))

    assert 'name="customer"' in response.text
    assert 'name="confirm"' not in response.text


def test_staff_without_view_customer_see_customer_ids_not_names(view_only_staff_client, attribute):
    changelist = view_only_staff_client.get(reverse(CHANGELIST))
    detail = view_only_staff_client.get(change_url(attribute))

    assert changelist.status_code == detail.status_code == 200
    assert "SF-12345" in changelist.text and "SF-12345" in detail.text
    assert "Acme Fiber Ltd" not in changelist.text
    assert "Acme Fiber Ltd" not in detail.text


def test_editor_without_view_customer_changes_the_value_and_the_customer_stays(client, attribute):
    client.force_login(make_user("view_customer_attribute", "update_customer_attribute", is_staff=True))
    other = make_customer(customer_name="Other Ltd")

    response = client.post(
        change_url(attribute),
        {"customer": other.pk, "attribute_name": "external_crm_id", "attribute_value": "SF-9"},
    )

    assert response.status_code == 302
    assert "Acme Fiber Ltd" not in client.get(change_url(attribute)).text
    attribute.refresh_from_db()
    assert (attribute.customer_id, attribute.attribute_value) == (attribute.customer.pk, "SF-9")
    assert values(other) == {}
