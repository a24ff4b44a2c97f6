"""The Attributes tab through real HTTP requests: permissions, htmx fragments, forms, escaping, CSRF, query counts."""

import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertRedirects

from attributes import services
from attributes.models import Attribute
from attributes.services.usage import usage_refresh
from tests.factories import make_attribute, make_customer, make_user

pytestmark = pytest.mark.django_db

VIEW, CREATE, UPDATE, DELETE = (
    "view_customer_attribute",
    "create_customer_attribute",
    "update_customer_attribute",
    "delete_customer_attribute",
)
ALL = (VIEW, CREATE, UPDATE, DELETE)
VIEW_C = "view_customer"  # every page of the tab shows the customer, so each also needs the customer view permission
HTMX = {"HX-Request": "true"}
HTMX_MODAL = {**HTMX, "HX-Target": "attribute-modal-content"}


def tab_url(customer) -> str:
    return reverse("attributes:tab", args=[customer.pk])


def create_url(customer) -> str:
    return reverse("attributes:create", args=[customer.pk])


def update_url(attribute) -> str:
    return reverse("attributes:update", args=[attribute.customer_id, attribute.pk])


def delete_url(attribute) -> str:
    return reverse("attributes:delete", args=[attribute.customer_id, attribute.pk])


def input_tag(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, f"no input named {name}"
    return match.group()


def values(customer) -> dict[str, str]:
    return dict(Attribute.objects.filter(customer=customer).values_list("attribute_name", "attribute_value"))


# --- every view, with and without its permission ---------------------------------------------------------------

# (id, method, url builder, required permission, POST data, htmx headers, status with permission)
VIEW_CASES = [
    ("tab-page", "get", lambda a: tab_url(a.customer), VIEW, None, {}, 200),
    ("tab-htmx-tab-area", "get", lambda a: tab_url(a.customer), VIEW, None, {**HTMX, "HX-Target": "tab-area"}, 200),
    (
        "tab-htmx-table",
        "get",
        lambda a: tab_url(a.customer),
        VIEW,
        None,
        {**HTMX, "HX-Target": "attributes-table"},
        200,
    ),
    ("add-get", "get", lambda a: create_url(a.customer), CREATE, None, {}, 200),
    ("add-get-htmx", "get", lambda a: create_url(a.customer), CREATE, None, HTMX_MODAL, 200),
    (
        "add-post",
        "post",
        lambda a: create_url(a.customer),
        CREATE,
        {"attribute_name": "vlan_id", "attribute_value": "100"},
        {},
        302,
    ),
    (
        "add-post-htmx",
        "post",
        lambda a: create_url(a.customer),
        CREATE,
        {"attribute_name": "vlan_id", "attribute_value": "100"},
        HTMX_MODAL,
        200,
    ),
    ("edit-get", "get", update_url, UPDATE, None, {}, 200),
    ("edit-get-htmx", "get", update_url, UPDATE, None, HTMX_MODAL, 200),
    (
        "edit-post",
        "post",
        update_url,
        UPDATE,
        {"attribute_name": "external_crm_id", "attribute_value": "SF-99"},
        {},
        302,
    ),
    (
        "edit-post-htmx",
        "post",
        update_url,
        UPDATE,
        {"attribute_name": "external_crm_id", "attribute_value": "SF-99"},
        HTMX_MODAL,
        200,
    ),
    ("delete-get", "get", delete_url, DELETE, None, {}, 200),
    ("delete-get-htmx", "get", delete_url, DELETE, None, HTMX_MODAL, 200),
    ("delete-post", "post", delete_url, DELETE, {}, {}, 302),
    ("delete-post-htmx", "post", delete_url, DELETE, {}, HTMX_MODAL, 200),
]
CASE_IDS = [case[0] for case in VIEW_CASES]


def request(client, method, url, data, headers):
    if method == "get":
        return client.get(url, headers=headers)
    return client.post(url, data, headers=headers)


@pytest.mark.parametrize(("case", "method", "url", "perm", "data", "headers", "status"), VIEW_CASES, ids=CASE_IDS)
def test_view_with_its_permission_succeeds(client, attribute, case, method, url, perm, data, headers, status):
    client.force_login(make_user(VIEW_C, perm))
    before = values(attribute.customer)

    response = request(client, method, url(attribute), data, headers)

    assert response.status_code == status
    if status == 302:
        assert response.url == tab_url(attribute.customer)
    if method == "post":
        assert values(attribute.customer) != before  # the write happened


@pytest.mark.parametrize(("case", "method", "url", "perm", "data", "headers", "status"), VIEW_CASES, ids=CASE_IDS)
def test_view_without_its_permission_is_forbidden(client, attribute, case, method, url, perm, data, headers, status):
    client.force_login(make_user("view_customer", *(p for p in ALL if p != perm)))
    before = values(attribute.customer)

    response = request(client, method, url(attribute), data, headers)

    assert response.status_code == 403
    assert values(attribute.customer) == before


@pytest.mark.parametrize(("case", "method", "url", "perm", "data", "headers", "status"), VIEW_CASES, ids=CASE_IDS)
def test_view_without_customer_view_permission_is_forbidden(
    client, attribute, case, method, url, perm, data, headers, status
):
    """All attribute permissions but not customers.view_customer: 403, the customer's name unseen, nothing written."""
    client.force_login(make_user(*ALL, "change_customer", "add_customer", "delete_customer"))
    before = values(attribute.customer)

    response = request(client, method, url(attribute), data, headers)

    assert response.status_code == 403
    assert attribute.customer.customer_name not in response.text
    assert values(attribute.customer) == before


@pytest.mark.parametrize(("case", "method", "url", "perm", "data", "headers", "status"), VIEW_CASES, ids=CASE_IDS)
def test_view_redirects_anonymous_users_to_sign_in(client, attribute, case, method, url, perm, data, headers, status):
    before = values(attribute.customer)

    response = request(client, method, url(attribute), data, headers)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")
    assert values(attribute.customer) == before


def test_inactive_user_is_treated_as_signed_out(client, attribute):
    client.force_login(make_user(VIEW_C, *ALL, is_active=False))

    response = client.get(tab_url(attribute.customer))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- the tab and its table ----------------------------------------------------------------------------------


def test_customer_page_shows_the_attributes_tab_to_users_who_may_view_attributes(client, customer):
    client.force_login(make_user("view_customer", VIEW))

    response = client.get(customer.get_absolute_url())

    assert response.status_code == 200
    assert f'href="{tab_url(customer)}"' in response.text
    assert ">Attributes</a>" in response.text


def test_customer_page_hides_the_attributes_tab_without_view_permission(client, customer):
    client.force_login(make_user("view_customer", CREATE, UPDATE, DELETE))

    response = client.get(customer.get_absolute_url())

    assert response.status_code == 200
    assert tab_url(customer) not in response.text
    assert ">Attributes</a>" not in response.text


def test_tab_page_is_a_full_page_with_the_table(client, attribute):
    client.force_login(make_user(VIEW_C, VIEW))

    response = client.get(tab_url(attribute.customer))

    html = response.text
    assert "<html" in html
    assert 'id="tab-area"' in html
    assert 'id="attribute-modal"' in html
    headers = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', html)
    assert headers == ["Attribute Name", "Attribute Value", "Created", "Last Modified"]
    assert "external_crm_id" in html
    assert "SF-12345" in html
    active_tab = re.search(r'<a class="nav-link active" aria-current="page"\s+href="([^"]+)"', html)
    assert active_tab.group(1) == tab_url(attribute.customer)


def test_tab_loaded_in_place_returns_only_the_tab_area(client, attribute):
    client.force_login(make_user(VIEW_C, VIEW))

    response = client.get(tab_url(attribute.customer), headers={**HTMX, "HX-Target": "tab-area"})

    html = response.text
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="tab-area">')
    assert 'id="customer-tabs"' in html
    assert "SF-12345" in html


def test_table_refresh_returns_only_the_table(client, attribute):
    client.force_login(make_user(VIEW_C, VIEW))

    response = client.get(tab_url(attribute.customer), headers={**HTMX, "HX-Target": "attributes-table"})

    html = response.text
    assert "<html" not in html
    assert 'id="tab-area"' not in html
    assert 'id="attributes-table"' in html
    assert "SF-12345" in html


def test_table_is_sorted_by_name_and_dates_use_the_specified_format(client, customer):
    for name in ["vlan_id", "billing_method", "external_crm_id"]:
        make_attribute(customer, name, f"value-of-{name}")
    client.force_login(make_user(VIEW_C, VIEW))

    html = client.get(tab_url(customer)).text

    positions = [html.index(f"value-of-{name}") for name in ["billing_method", "external_crm_id", "vlan_id"]]
    assert positions == sorted(positions)
    created = Attribute.objects.get(customer=customer, attribute_name="vlan_id").created
    assert created.strftime("%Y-%m-%d %H:%M:%S") in html
    assert re.search(r"<td class=\"nowrap\"[^>]*>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}</td>", html)


def test_tab_shows_only_the_customers_own_attributes(client, customer):
    make_attribute(customer, "support_tier", "premium")
    make_attribute(make_customer(), "support_tier", "other-customers-value")
    client.force_login(make_user(VIEW_C, VIEW))

    html = client.get(tab_url(customer)).text

    assert "premium" in html
    assert "other-customers-value" not in html


def test_empty_tab_invites_adding_an_attribute(client, customer):
    client.force_login(make_user(VIEW_C, VIEW, CREATE))

    html = client.get(tab_url(customer)).text

    assert "No attributes yet." in html
    assert "Add the first attribute" in html


def test_empty_tab_without_create_permission_has_no_add_button(client, customer):
    client.force_login(make_user(VIEW_C, VIEW))

    html = client.get(tab_url(customer)).text

    assert "No attributes yet." in html
    assert create_url(customer) not in html


def test_tab_of_a_missing_customer_is_not_found(client):
    client.force_login(make_user(VIEW_C, *ALL))

    response = client.get(reverse("attributes:tab", args=[987654]))

    assert response.status_code == 404


# --- what the user may do decides what they see -----------------------------------------------------------------


def test_view_only_user_sees_no_add_edit_or_delete_buttons(client, attribute):
    client.force_login(make_user(VIEW_C, VIEW))

    html = client.get(tab_url(attribute.customer)).text

    assert "SF-12345" in html
    assert "Add Attribute" not in html
    assert create_url(attribute.customer) not in html
    assert 'aria-label="Edit external_crm_id"' not in html
    assert 'aria-label="Delete external_crm_id"' not in html
    assert update_url(attribute) not in html
    assert delete_url(attribute) not in html


@pytest.mark.parametrize(
    ("perm", "shown"),
    [
        (CREATE, "Add Attribute"),
        (UPDATE, 'aria-label="Edit external_crm_id"'),
        (DELETE, 'aria-label="Delete external_crm_id"'),
    ],
    ids=["create", "update", "delete"],
)
def test_each_button_appears_only_with_its_permission(client, attribute, perm, shown):
    client.force_login(make_user(VIEW_C, VIEW, perm))

    html = client.get(tab_url(attribute.customer)).text

    assert shown in html
    others = {"Add Attribute", 'aria-label="Edit external_crm_id"', 'aria-label="Delete external_crm_id"'} - {shown}
    for hidden in others:
        assert hidden not in html


def test_user_with_all_permissions_sees_every_button_with_accessible_names(client, attribute):
    client.force_login(make_user(VIEW_C, *ALL))

    html = client.get(tab_url(attribute.customer)).text

    assert f'href="{create_url(attribute.customer)}"' in html
    assert f'hx-get="{update_url(attribute)}"' in html
    assert 'aria-label="Edit external_crm_id"' in html
    assert f'hx-get="{delete_url(attribute)}"' in html
    assert 'aria-label="Delete external_crm_id"' in html


# --- the Add / Edit form ----------------------------------------------------------------------------------------


def test_add_form_has_the_specified_fields_and_button(client, customer):
    client.force_login(make_user(VIEW_C, CREATE))

    html = client.get(create_url(customer), headers=HTMX_MODAL).text

    assert "<html" not in html
    assert "Attribute Name" in html
    assert "Attribute Value" in html
    assert "Create Attribute" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "/ 150" in html


def test_value_input_has_no_maxlength_so_the_browser_never_truncates(client, customer):
    client.force_login(make_user(VIEW_C, CREATE))

    html = client.get(create_url(customer)).text

    assert "maxlength" not in input_tag(html, "attribute_value")
    assert 'data-char-limit="150"' in input_tag(html, "attribute_value")


def test_add_via_form_with_150_characters_saves_the_whole_value(client, customer):
    client.force_login(make_user(VIEW_C, CREATE))

    response = client.post(create_url(customer), {"attribute_name": "note", "attribute_value": "v" * 150})

    assertRedirects(response, tab_url(customer), fetch_redirect_response=False)
    assert values(customer) == {"note": "v" * 150}


def test_add_via_form_with_151_characters_shows_the_error_and_saves_nothing(client, customer):
    client.force_login(make_user(VIEW_C, CREATE))

    response = client.post(create_url(customer), {"attribute_name": "note", "attribute_value": "v" * 151})

    assert response.status_code == 200
    html = response.text
    assert "limited to 150 characters" in html
    tag = input_tag(html, "attribute_value")
    assert "maxlength" not in tag
    assert f'value="{"v" * 151}"' in tag  # the whole value comes back for the user to shorten, not cut
    assert '<span class="char-count-value">151</span> / 150' in html
    assert values(customer) == {}


def test_add_via_htmx_with_151_characters_rerenders_the_modal_with_the_error(client, customer):
    client.force_login(make_user(VIEW_C, CREATE))

    response = client.post(
        create_url(customer), {"attribute_name": "note", "attribute_value": "é" * 151}, headers=HTMX_MODAL
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="attribute-form"' in response.text
    assert "limited to 150 characters" in response.text
    assert "HX-Trigger" not in response.headers
    assert values(customer) == {}


def test_add_via_form_counts_characters_not_bytes(client, customer):
    client.force_login(make_user(VIEW_C, CREATE))

    response = client.post(create_url(customer), {"attribute_name": "note", "attribute_value": "é" * 150})

    assert response.status_code == 302
    assert values(customer) == {"note": "é" * 150}


def test_add_via_form_with_a_bad_name_shows_the_rule_and_a_suggestion(client, customer):
    client.force_login(make_user(VIEW_C, CREATE))

    response = client.post(
        create_url(customer), {"attribute_name": "External System ID", "attribute_value": "SF-1"}, headers=HTMX_MODAL
    )

    assert response.status_code == 200
    assert "use lowercase with underscores, e.g. external_system_id" in response.text
    assert values(customer) == {}


def test_add_via_form_with_empty_fields_shows_required_errors(client, customer):
    client.force_login(make_user(VIEW_C, CREATE))

    response = client.post(create_url(customer), {"attribute_name": "  ", "attribute_value": ""})

    assert response.status_code == 200
    assert response.text.count("This field is required.") == 2
    assert values(customer) == {}


def test_add_via_form_with_a_control_character_is_rejected(client, customer):
    client.force_login(make_user(VIEW_C, CREATE))

    response = client.post(create_url(customer), {"attribute_name": "note", "attribute_value": "a\x01b"})

    assert response.status_code == 200
    assert "control characters" in response.text
    assert values(customer) == {}


def test_add_via_form_trims_name_and_value(client, customer):
    client.force_login(make_user(VIEW_C, CREATE))

    client.post(create_url(customer), {"attribute_name": " billing_method ", "attribute_value": " quarterly "})

    assert values(customer) == {"billing_method": "quarterly"}


def test_add_of_an_existing_name_updates_it_for_a_user_with_update_permission(client, attribute):
    client.force_login(make_user(VIEW_C, CREATE, UPDATE))

    response = client.post(
        create_url(attribute.customer), {"attribute_name": "external_crm_id", "attribute_value": "SF-54321"}
    )

    assert response.status_code == 302
    assert list(Attribute.objects.values_list("attribute_id", "attribute_value")) == [
        (attribute.attribute_id, "SF-54321")
    ]


def test_add_of_an_existing_name_is_refused_without_update_permission(client, attribute):
    client.force_login(make_user(VIEW_C, VIEW, CREATE))

    response = client.post(
        create_url(attribute.customer), {"attribute_name": "external_crm_id", "attribute_value": "SF-54321"}
    )

    assert response.status_code == 403
    assert "already has an attribute named" in response.text
    assert "update_customer_attribute" in response.text
    assert values(attribute.customer) == {"external_crm_id": "SF-12345"}


def test_add_of_an_existing_name_via_htmx_explains_the_refusal_in_the_modal(client, attribute):
    client.force_login(make_user(VIEW_C, VIEW, CREATE))

    response = client.post(
        create_url(attribute.customer),
        {"attribute_name": "external_crm_id", "attribute_value": "SF-54321"},
        headers=HTMX_MODAL,
    )

    assert 'id="attribute-form"' in response.text
    assert "update_customer_attribute" in response.text
    assert "HX-Trigger" not in response.headers
    assert values(attribute.customer) == {"external_crm_id": "SF-12345"}


def test_edit_form_is_filled_in_and_has_the_update_button(client, attribute):
    client.force_login(make_user(VIEW_C, UPDATE))

    html = client.get(update_url(attribute), headers=HTMX_MODAL).text

    assert 'value="external_crm_id"' in input_tag(html, "attribute_name")
    assert 'value="SF-12345"' in input_tag(html, "attribute_value")
    assert "Update Attribute" in html
    assert "Changing an attribute name creates a new key-value pair" in html
    assert re.search(r'class="[^"]*rename-note[^"]*"[^>]*hidden', html)  # shown by app.js once the name changes


def test_edit_via_form_changes_the_value(client, attribute):
    client.force_login(make_user(VIEW_C, UPDATE))

    response = client.post(update_url(attribute), {"attribute_name": "external_crm_id", "attribute_value": "SF-9"})

    assertRedirects(response, tab_url(attribute.customer), fetch_redirect_response=False)
    assert values(attribute.customer) == {"external_crm_id": "SF-9"}


def test_edit_via_form_renames_the_same_row(client, attribute):
    client.force_login(make_user(VIEW_C, UPDATE))

    client.post(update_url(attribute), {"attribute_name": "salesforce_id", "attribute_value": "SF-12345"})

    assert list(Attribute.objects.values_list("attribute_id", "attribute_name")) == [
        (attribute.attribute_id, "salesforce_id")
    ]


def test_edit_via_form_with_151_characters_shows_the_error_and_changes_nothing(client, attribute):
    client.force_login(make_user(VIEW_C, UPDATE))

    response = client.post(update_url(attribute), {"attribute_name": "external_crm_id", "attribute_value": "x" * 151})

    assert response.status_code == 200
    assert "limited to 150 characters" in response.text
    assert "maxlength" not in input_tag(response.text, "attribute_value")
    assert values(attribute.customer) == {"external_crm_id": "SF-12345"}


def test_rename_onto_an_existing_name_shows_the_collision_and_changes_nothing(client, attribute):
    other = make_attribute(attribute.customer, "legacy_system_id", "OLD-CRM-789")
    client.force_login(make_user(VIEW_C, UPDATE))

    response = client.post(
        update_url(other), {"attribute_name": "external_crm_id", "attribute_value": "changed"}, headers=HTMX_MODAL
    )

    assert response.status_code == 200
    assert "This customer already has an attribute named “external_crm_id”" in response.text
    assert 'class="invalid-feedback d-block"' in response.text
    assert values(attribute.customer) == {"external_crm_id": "SF-12345", "legacy_system_id": "OLD-CRM-789"}


def test_rename_note_shows_after_a_rejected_rename(client, attribute):
    client.force_login(make_user(VIEW_C, UPDATE))

    html = client.post(update_url(attribute), {"attribute_name": "Bad Name", "attribute_value": "SF-1"}).text

    assert not re.search(r'class="[^"]*rename-note[^"]*"[^>]*hidden', html)
    assert "Changing an attribute name creates a new key-value pair" in html


# --- delete -------------------------------------------------------------------------------------------------------


def test_delete_confirmation_names_the_attribute_and_warns(client, attribute):
    client.force_login(make_user(VIEW_C, DELETE))

    html = client.get(delete_url(attribute), headers=HTMX_MODAL).text

    assert "<html" not in html
    assert "external_crm_id" in html
    assert (
        "Deleting attributes used by integrations, provisioning workflows, or billing logic may cause failures" in html
    )
    assert ">Delete</button>" in html
    assert Attribute.objects.filter(pk=attribute.pk).exists()


def test_delete_via_form_removes_the_attribute_and_redirects_to_the_tab(client, attribute):
    kept = make_attribute(attribute.customer, "vlan_id", "100")
    client.force_login(make_user(VIEW_C, DELETE))

    response = client.post(delete_url(attribute))

    assertRedirects(response, tab_url(attribute.customer), fetch_redirect_response=False)
    assert list(Attribute.objects.all()) == [kept]


def test_delete_by_get_deletes_nothing(client, attribute):
    client.force_login(make_user(VIEW_C, DELETE))

    client.get(delete_url(attribute))

    assert Attribute.objects.filter(pk=attribute.pk).exists()


# --- attributes of another customer ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url_name", "data"),
    [
        ("get", "attributes:update", None),
        ("post", "attributes:update", {"attribute_name": "external_crm_id", "attribute_value": "hijacked"}),
        ("get", "attributes:delete", None),
        ("post", "attributes:delete", {}),
    ],
    ids=["edit-get", "edit-post", "delete-get", "delete-post"],
)
def test_attribute_of_another_customer_in_the_url_is_not_found(client, attribute, method, url_name, data):
    intruder_customer = make_customer()
    client.force_login(make_user(VIEW_C, *ALL))
    url = reverse(url_name, args=[intruder_customer.pk, attribute.pk])

    response = request(client, method, url, data, {})

    assert response.status_code == 404
    assert values(attribute.customer) == {"external_crm_id": "SF-12345"}


def test_missing_attribute_is_not_found(client, customer):
    client.force_login(make_user(VIEW_C, *ALL))

    response = client.get(reverse("attributes:update", args=[customer.pk, 987654]))

    assert response.status_code == 404


# --- values are text, never HTML ------------------------------------------------------------------------------------

SCRIPT = "<script>alert('x')</script>"


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        (lambda a: tab_url(a.customer), {}),
        (lambda a: tab_url(a.customer), {**HTMX, "HX-Target": "attributes-table"}),
        (update_url, HTMX_MODAL),
        (delete_url, HTMX_MODAL),
    ],
    ids=["tab", "table", "edit", "delete"],
)
def test_script_in_a_value_is_escaped(client, customer, url, headers):
    attribute = make_attribute(customer, "note", SCRIPT)
    client.force_login(make_user(VIEW_C, *ALL))

    html = client.get(url(attribute), headers=headers).text

    assert SCRIPT not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_script_in_a_value_is_stored_verbatim(client, customer):
    client.force_login(make_user(VIEW_C, CREATE))

    client.post(create_url(customer), {"attribute_name": "note", "attribute_value": SCRIPT})

    assert values(customer) == {"note": SCRIPT}


# --- CSRF ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(db):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(VIEW_C, *ALL))
    return client


@pytest.mark.parametrize(
    ("url", "data"),
    [
        (lambda a: create_url(a.customer), {"attribute_name": "vlan_id", "attribute_value": "100"}),
        (update_url, {"attribute_name": "external_crm_id", "attribute_value": "forged"}),
        (delete_url, {}),
    ],
    ids=["add", "edit", "delete"],
)
def test_post_without_csrf_token_is_refused(csrf_client, attribute, url, data):
    response = csrf_client.post(url(attribute), data, headers=HTMX_MODAL)

    assert response.status_code == 403
    assert values(attribute.customer) == {"external_crm_id": "SF-12345"}


def test_post_with_the_forms_csrf_token_is_accepted(csrf_client, customer):
    form_html = csrf_client.get(create_url(customer)).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form_html).group(1)

    response = csrf_client.post(
        create_url(customer), {"attribute_name": "vlan_id", "attribute_value": "100", "csrfmiddlewaretoken": token}
    )

    assert response.status_code == 302
    assert values(customer) == {"vlan_id": "100"}


def test_htmx_post_with_the_pages_csrf_header_is_accepted(csrf_client, customer):
    page = csrf_client.get(tab_url(customer)).text
    token = json.loads(re.search(r"hx-headers='([^']+)'", page).group(1))["X-CSRFToken"]

    response = csrf_client.post(
        create_url(customer),
        {"attribute_name": "vlan_id", "attribute_value": "100"},
        headers={**HTMX_MODAL, "X-CSRFToken": token},
    )

    assert response.status_code == 200
    assert values(customer) == {"vlan_id": "100"}


# --- responses after a successful write ------------------------------------------------------------------------------


def assert_table_refresh(response, *, message: str) -> None:
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#attributes-table"
    assert response.headers["HX-Reswap"] == "outerHTML"
    assert "attributesChanged" in json.loads(response.headers["HX-Trigger"])
    html = response.text
    assert "<html" not in html
    assert 'id="attributes-table"' in html
    assert 'hx-swap-oob="true"' in html
    assert message in html


def test_htmx_add_returns_the_refreshed_table_and_a_success_message(client, customer):
    client.force_login(make_user(VIEW_C, VIEW, CREATE))

    response = client.post(
        create_url(customer), {"attribute_name": "vlan_id", "attribute_value": "100"}, headers=HTMX_MODAL
    )

    assert_table_refresh(response, message="Attribute vlan_id created.")
    assert re.search(r'<th scope="row"[^>]*>vlan_id</th>\s*<td class="attr-value"[^>]*>100</td>', response.text)


def test_htmx_edit_returns_the_refreshed_table_and_a_success_message(client, attribute):
    client.force_login(make_user(VIEW_C, VIEW, UPDATE))

    response = client.post(
        update_url(attribute), {"attribute_name": "external_crm_id", "attribute_value": "SF-9"}, headers=HTMX_MODAL
    )

    assert_table_refresh(response, message="Attribute external_crm_id updated.")
    assert "SF-9" in response.text


def test_htmx_delete_returns_the_refreshed_table_and_a_success_message(client, attribute):
    client.force_login(make_user(VIEW_C, VIEW, DELETE))

    response = client.post(delete_url(attribute), headers=HTMX_MODAL)

    assert_table_refresh(response, message="Attribute external_crm_id deleted.")
    assert "SF-12345" not in response.text
    assert "No attributes yet." in response.text


def test_plain_post_redirects_to_the_tab_which_shows_the_message(client, customer):
    client.force_login(make_user(VIEW_C, VIEW, CREATE))

    response = client.post(create_url(customer), {"attribute_name": "vlan_id", "attribute_value": "100"}, follow=True)

    assertRedirects(response, tab_url(customer))
    assert "Attribute vlan_id created." in response.text
    assert "vlan_id" in response.text


def test_add_of_the_same_value_reports_it_unchanged(client, attribute):
    client.force_login(make_user(VIEW_C, VIEW, CREATE, UPDATE))

    response = client.post(
        create_url(attribute.customer),
        {"attribute_name": "external_crm_id", "attribute_value": "SF-12345"},
        follow=True,
    )

    assert "Attribute external_crm_id left unchanged." in response.text


# --- a fixed number of queries ------------------------------------------------------------------------------------


def count_queries(client, url, headers=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers or {})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "headers",
    [{}, {**HTMX, "HX-Target": "tab-area"}, {**HTMX, "HX-Target": "attributes-table"}],
    ids=["page", "tab-area", "table"],
)
def test_tab_costs_the_same_queries_for_2_and_200_attributes(client, headers):
    small, large = make_customer(), make_customer()
    for i in range(2):
        make_attribute(small, f"attr_{i:03d}", f"value {i}")
    for i in range(200):
        make_attribute(large, f"attr_{i:03d}", f"value {i}")
    client.force_login(make_user("view_customer", *ALL))
    count_queries(client, tab_url(small), headers)  # warm up per-process caches (content types)

    small_count = count_queries(client, tab_url(small), headers)
    large_count = count_queries(client, tab_url(large), headers)

    assert large_count == small_count
    assert client.get(tab_url(large), headers=headers).text.count('<tr id="attribute-') == 200


# --- lost updates: Edit and Delete carry the version they showed ----------------------------------------------------


def shown_version(html: str) -> str:
    return re.search(r'name="version" value="([^"]+)"', html).group(1).replace("&quot;", '"')


def test_edit_with_the_version_it_showed_saves(client, attribute):
    client.force_login(make_user(VIEW_C, UPDATE))
    version = shown_version(client.get(update_url(attribute)).text)

    response = client.post(
        update_url(attribute), {"attribute_name": "external_crm_id", "attribute_value": "SF-9", "version": version}
    )

    assert response.status_code == 302
    assert values(attribute.customer) == {"external_crm_id": "SF-9"}


def test_edit_of_a_version_someone_else_changed_shows_theirs_and_saves_nothing(client, attribute):
    client.force_login(make_user(VIEW_C, UPDATE))
    version = shown_version(client.get(update_url(attribute), headers=HTMX_MODAL).text)
    services.attribute_update(attribute=attribute, value="SF-OTHER", actor=None)

    response = client.post(
        update_url(attribute),
        {"attribute_name": "external_crm_id", "attribute_value": "SF-MINE", "version": version},
        headers=HTMX_MODAL,
    )

    assert response.status_code == 200
    assert "Someone else changed this attribute" in response.text
    assert 'value="SF-OTHER"' in input_tag(response.text, "attribute_value")
    assert values(attribute.customer) == {"external_crm_id": "SF-OTHER"}


def test_delete_of_a_version_someone_else_changed_asks_again_and_deletes_nothing(client, attribute):
    client.force_login(make_user(VIEW_C, DELETE))
    version = shown_version(client.get(delete_url(attribute), headers=HTMX_MODAL).text)
    services.attribute_update(attribute=attribute, value="SF-OTHER", actor=None)

    response = client.post(delete_url(attribute), {"version": version}, headers=HTMX_MODAL)

    assert response.status_code == 200
    assert "Someone else changed this attribute" in response.text
    assert "SF-OTHER" in response.text
    assert values(attribute.customer) == {"external_crm_id": "SF-OTHER"}


# --- customer data needs customers.view_customer (attributes/permissions.py CUSTOMER_VIEW) ------------------------


def api_client(user) -> Client:
    from tokens.models import ApiToken

    _, raw = ApiToken.issue(user=user, name="tests")
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.mark.parametrize("query", ["", "?q=Acme", "?status=Open", "?attribute_name=external_crm_id"])
def test_attributes_export_csv_needs_customer_view_permission(client, attribute, query):
    url = reverse("attributes:filtered_export") + query
    client.force_login(make_user(*ALL))

    refused = client.get(url)

    assert refused.status_code == 403
    assert attribute.customer.customer_name not in refused.text
    client.force_login(make_user(VIEW_C, VIEW))
    allowed = client.get(url)
    assert allowed.status_code == 200
    assert attribute.customer.customer_name in b"".join(allowed.streaming_content).decode()


@pytest.mark.parametrize("query", ["", "?customer_id={customer}", "?attribute_name=external_crm_id"])
def test_api_export_needs_customer_view_permission(attribute, query):
    url = "/crm/attribute/export" + query.format(customer=attribute.customer_id)

    refused = api_client(make_user(*ALL)).get(url)

    assert refused.status_code == 403
    assert "view_customer" in refused.json()["detail"]
    allowed = api_client(make_user(VIEW_C, VIEW)).get(url)
    assert allowed.status_code == 200
    assert attribute.customer.customer_name in b"".join(allowed.streaming_content).decode()


@pytest.mark.parametrize(
    "url",
    [
        "/crm/attribute/customer_id/{customer}",
        "/crm/attribute/attribute_id/{attribute}",
        "/crm/attribute/?attribute_name=external_crm_id",
        "/crm/attribute/customer_id/{customer}/history",
        "/crm/attribute/usage",
    ],
)
def test_api_endpoints_returning_only_attributes_need_only_the_specified_permission(attribute, url):
    """The specification's list: view_customer_attribute reads attributes; they carry no customer name."""
    response = api_client(make_user(VIEW)).get(url.format(customer=attribute.customer_id, attribute=attribute.pk))

    assert response.status_code == 200
    assert attribute.customer.customer_name not in response.text


def test_usage_page_needs_no_customer_view_permission_and_names_no_customer(client, attribute):
    usage_refresh()  # the page reads the usage summary, which a worker's periodic job keeps up to date
    client.force_login(make_user(VIEW))

    response = client.get(reverse("attributes:usage"))

    assert response.status_code == 200
    assert "external_crm_id" in response.text
    assert attribute.customer.customer_name not in response.text


@pytest.mark.parametrize(("extra", "shows_name"), [((), False), ((VIEW_C,), True)])
def test_rename_conflicts_name_customers_only_with_customer_view_permission(client, customer, extra, shows_name):
    make_attribute(customer, "tier", "gold")
    make_attribute(customer, "service_tier", "silver")
    client.force_login(make_user(UPDATE, DELETE, "manage_attribute_registry", *extra))

    response = client.post(reverse("attributes:rename"), {"old_name": "tier", "new_name": "service_tier"})

    assert response.status_code == 200
    assert f"#{customer.pk}" in response.text  # the conflict is listed either way
    assert (customer.customer_name in response.text) is shows_name
    assert values(customer) == {"tier": "gold", "service_tier": "silver"}
