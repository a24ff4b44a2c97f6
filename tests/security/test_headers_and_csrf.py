"""Response headers that keep browsers safe, templates that keep the strict CSP possible, and CSRF on every form.

`manage.py check --deploy` with production settings is enforced in tests/project/test_settings.py.
"""

import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

from attributes.models import Attribute
from jobs.models import Job
from tests.factories import attribute_rows, customer_rows, make_user
from tests.security.conftest import ALL_CODENAMES
from tests.security.urlmap import EXPECTED, ROUTES, RawBody, make_objects, request_body, url_for

PROJECT_DIR = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [PROJECT_DIR / "templates", *PROJECT_DIR.glob("*/templates")]
PAGES = [
    "/accounts/login/",
    "/customers/",
    "/customers/{c}/",
    "/customers/{c}/attributes/",
    "/customers/{c}/attributes/history/",
    "/attributes/registry/",
    "/attributes/usage/",
    "/account/tokens/",
    "/crm/attribute/customer_id/{c}",  # the browsable API, for a signed-in browser
    "/admin/",
    "/customers/999999999/",  # a 404 page
    "/crm/docs/",
]


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


@pytest.fixture
def browser(world, superuser):
    client = Client()
    client.force_login(superuser)
    return client


@pytest.mark.parametrize("page", PAGES)
def test_pages_send_a_strict_content_security_policy(browser, world, page):
    response = browser.get(page.format(c=world.customer.pk), headers={"Accept": "text/html"})

    csp = directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"], "scripts only from our own origin, never inline"
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    if page == "/crm/docs/":  # Swagger UI styles its elements inline; scripts stay strict there too
        assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
    else:
        assert csp["style-src"] == ["'self'"]
    for values in csp.values():
        assert "'unsafe-eval'" not in values


@pytest.mark.parametrize("page", [*PAGES, "/crm/attribute/", "/healthz/", "/crm/schema/"])
def test_responses_forbid_sniffing_framing_and_leaking_referrers(browser, world, page):
    response = browser.get(page.format(c=world.customer.pk))

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response.get("Cross-Origin-Opener-Policy") == "same-origin"


def test_anonymous_and_api_responses_carry_the_headers_too(world):
    for response in (Client().get("/customers/"), APIClient().get("/crm/attribute/"), Client().get("/accounts/login/")):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


HSTS_PROBE = """
import functools
import json
import django
django.setup()
from django.test import Client
client = Client()
secure = client.get("/healthz/", secure=True)
plain = client.get("/healthz/")
print(json.dumps({
    "hsts": secure.get("Strict-Transport-Security"),
    "secure_status": secure.status_code,
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location"),
}))
"""


def _probe(tmp_path, **overrides) -> dict:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "ENV_FILE": os.devnull,
        "DJANGO_SETTINGS_MODULE": "crm_project.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STATIC_ROOT": str(tmp_path),
        "SECRET_KEY": "a-long-random-production-secret-key-for-this-test-only-0123456789",
        "ALLOWED_HOSTS": "testserver",
        **overrides,
    }
    result = subprocess.run(
        [sys.executable, "-c", HSTS_PROBE], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_send_hsts_and_redirect_plain_http(tmp_path):
    """DEBUG off and nothing relaxed, exactly as an operator would run it."""
    seen = _probe(tmp_path)

    assert seen["secure_status"] == 200
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert seen["plain_status"] == 301
    assert seen["plain_location"] == "https://testserver/healthz/"


def test_debug_sends_no_hsts(tmp_path):
    assert _probe(tmp_path, DEBUG="true")["hsts"] is None


# --- templates ---------------------------------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I)
TEMPLATE_COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.S)


def _templates():
    return sorted(p for d in TEMPLATE_DIRS for p in d.rglob("*.html"))


def test_templates_hold_no_inline_script_style_or_event_handler():
    assert _templates(), "no templates found"
    problems = []
    for path in _templates():
        text = TEMPLATE_COMMENT.sub(lambda m: "\n" * m.group().count("\n"), path.read_text())
        for pattern, what in (
            (INLINE_SCRIPT, "inline <script>"),
            (INLINE_STYLE, "inline style"),
            (INLINE_HANDLER, "on…= handler"),
        ):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(PROJECT_DIR)}:{line}: {what}: {match.group().strip()}")
    assert not problems, "\n".join(problems)


def test_rendered_pages_hold_no_inline_script_or_style(browser, world):
    for page in PAGES:
        if page == "/crm/docs/":
            continue
        html = browser.get(page.format(c=world.customer.pk), headers={"Accept": "text/html"}).text
        assert not INLINE_SCRIPT.search(html), page
        assert not INLINE_STYLE.search(html), page


# --- CSRF ---------------------------------------------------------------------------------------------------

UI_POSTS = [route for route in ROUTES if not route.is_api and "POST" in EXPECTED.get(route.name, {})]
API_WRITES = [
    (route, method)
    for route in ROUTES
    if route.is_api
    for method in EXPECTED.get(route.name, {})
    if method in {"PUT", "PATCH", "DELETE", "POST"}
]


def _state():
    return attribute_rows(), customer_rows(), Attribute.history.count(), Job.objects.count()


@pytest.mark.parametrize("route", UI_POSTS, ids=[route.name for route in UI_POSTS])
def test_every_ui_form_post_is_refused_without_the_csrf_token(route, world, superuser):
    objects = make_objects(world)
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    path = url_for(route, objects, superuser)
    before = _state()

    response = client.post(path, request_body(route, "POST", objects))

    assert response.status_code == 403, f"POST {path} without a CSRF token: {response.status_code}"
    assert _state() == before


@pytest.mark.parametrize("route", UI_POSTS, ids=[route.name for route in UI_POSTS])
def test_every_ui_form_post_works_with_the_csrf_token(route, world, superuser):
    objects = make_objects(world)
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    path = url_for(route, objects, superuser)
    client.get("/accounts/login/")  # any page sets the CSRF cookie
    token = client.cookies["csrftoken"].value

    response = client.post(path, {**request_body(route, "POST", objects), "csrfmiddlewaretoken": token})

    assert response.status_code in (200, 302), f"POST {path} with the token: {response.status_code}"


def test_sign_in_and_admin_forms_need_the_csrf_token(world, superuser):
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.post("/accounts/login/", {"username": "root", "password": "pw-for-tests-1"}).status_code == 403
    admin = Client(enforce_csrf_checks=True)
    admin.force_login(superuser)
    before = customer_rows()
    assert admin.post("/admin/customers/customer/add/", {"customer_name": "Via admin"}).status_code == 403
    assert customer_rows() == before


@pytest.mark.parametrize(("route", "method"), API_WRITES, ids=[f"{m} {r.name}" for r, m in API_WRITES])
def test_session_authenticated_api_writes_need_the_csrf_token(route, method, world):
    """A signed-in browser session can call the API, so a forged cross-site request must not write."""
    objects = make_objects(world)
    user = make_user(*ALL_CODENAMES)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    path = url_for(route, objects, user)
    body = request_body(route, method, objects)
    send = getattr(client, method.lower())
    before = _state()

    if isinstance(body, RawBody):  # e.g. the CSV import's text/csv
        raw = body
        body = raw.content.encode()
        send = functools.partial(send, content_type=raw.content_type)
        refused = send(path, body)
    else:
        send = functools.partial(send, format="json") if body is not None else send
        refused = send(path, body) if body is not None else send(path)
    assert refused.status_code == 403, f"{method} {path} without a CSRF token: {refused.status_code}"
    assert "CSRF" in refused.json()["detail"]
    assert _state() == before

    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    headers = {"X-CSRFToken": token}
    accepted = send(path, body, headers=headers) if body is not None else send(path, headers=headers)
    assert 200 <= accepted.status_code < 300, f"{method} {path} with the token: {accepted.status_code}"
