"""Sign-in is required on every page; the sign-in form and sign-out work with real credentials."""

import re
from urllib.parse import quote

import pytest
from django.test import Client

from customers.models import Customer
from tests.conftest import PASSWORD
from tests.factories import make_user

PAGES = [
    "/customers/",
    "/customers/new/",
    "/customers/{id}/",
    "/customers/{id}/edit/",
    "/customers/{id}/delete/",
    "/customers/{id}/attributes/",
    "/account/tokens/",
]


def login_redirect(path: str) -> str:
    return f"/accounts/login/?next={quote(path)}"


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_get_redirects_to_sign_in(client, customer, page):
    path = page.format(id=customer.customer_id)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == login_redirect(path)


def test_site_root_leads_anonymous_users_to_sign_in(client, db):
    response = client.get("/", follow=True)

    assert response.redirect_chain[-1][0] == login_redirect("/customers/")
    assert response.status_code == 200


def test_anonymous_post_cannot_create_customer(client, db):
    response = client.post("/customers/new/", {"customer_name": "Sneaky", "customer_account_type": "Business"})

    assert response["Location"] == login_redirect("/customers/new/")
    assert not Customer.objects.filter(customer_name="Sneaky").exists()


def test_anonymous_post_cannot_edit_customer(client, customer):
    path = f"/customers/{customer.customer_id}/edit/"

    response = client.post(path, {"customer_name": "Renamed", "customer_account_type": "Business"})

    assert response["Location"] == login_redirect(path)
    customer.refresh_from_db()
    assert customer.customer_name == "Acme Fiber Ltd"


def test_anonymous_post_cannot_delete_customer(client, customer):
    path = f"/customers/{customer.customer_id}/delete/"

    response = client.post(path)

    assert response["Location"] == login_redirect(path)
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_sign_in_page_renders_a_real_form(client, db):
    response = client.get("/accounts/login/?next=/customers/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<form method="post" action="/accounts/login/"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="username"' in html
    assert 'type="password" name="password"' in html
    assert 'name="next" value="/customers/"' in html


def csrf_token_from(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_signing_in_with_real_password_reaches_the_page_asked_for(db):
    user = make_user("view_customer", username="agent")
    client = Client(enforce_csrf_checks=True)
    form = client.get("/accounts/login/?next=/customers/")

    response = client.post(
        "/accounts/login/",
        {
            "username": "agent",
            "password": PASSWORD,
            "next": "/customers/",
            "csrfmiddlewaretoken": csrf_token_from(form.content.decode()),
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/customers/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get("/customers/").status_code == 200


def test_signing_in_without_next_lands_on_customer_list(client, db):
    make_user("view_customer", username="agent")

    response = client.post("/accounts/login/", {"username": "agent", "password": PASSWORD})

    assert response["Location"] == "/customers/"


def test_wrong_password_shows_error_and_does_not_sign_in(client, db):
    make_user("view_customer", username="agent")

    response = client.post("/accounts/login/", {"username": "agent", "password": "not-the-password"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_in_post_without_csrf_token_is_refused(db):
    make_user("view_customer", username="agent")
    client = Client(enforce_csrf_checks=True)

    response = client.post("/accounts/login/", {"username": "agent", "password": PASSWORD})

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_navbar_shows_user_name_and_sign_out_button(client, db):
    client.force_login(make_user("view_customer", username="agent", first_name="Ada", last_name="Lovelace"))

    html = client.get("/customers/").content.decode()

    assert "Ada Lovelace" in html
    assert '<form method="post" action="/accounts/logout/"' in html


def test_sign_out_by_post_ends_the_session(client, db):
    client.force_login(make_user("view_customer"))

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/customers/")["Location"] == login_redirect("/customers/")


def test_sign_out_by_get_is_refused(client, db):
    client.force_login(make_user("view_customer"))

    response = client.get("/accounts/logout/")

    assert response.status_code == 405
    assert client.get("/customers/").status_code == 200


def test_a_refused_page_says_which_permission_it_needs(client, db):
    client.force_login(make_user("view_customer"))

    response = client.get("/attributes/registry/")

    assert response.status_code == 403
    assert "manage_attribute_registry" in response.content.decode()
