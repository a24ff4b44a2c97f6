"""Playwright against pytest-django's live server, driving Debian's chromium (never a downloaded browser).

The live server runs in a thread of this process, so tests get a transactional database and, on SQLite,
a database file (see settings) that the server thread can see.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Route

# Playwright's sync API runs an event loop in this thread, next to which Django's ORM refuses to run.
# pytest-env sets it too (pyproject.toml); this keeps the folder self-sufficient.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# What a production deployment may send. Pages must work under it: no inline script, style attribute or eval.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)


def _serve_with_strict_csp(route: Route) -> None:
    request = route.request
    if request.resource_type != "document" or request.method != "GET":
        route.continue_()
        return
    response = route.fetch(max_redirects=0)
    route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's chromium. If it is missing, skip; but fail loudly where CI_REQUIRE_BROWSER=1."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found (apt-get install chromium); the browser tests need it."
        if os.environ.get("CI_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CI_REQUIRE_BROWSER=1 but {message}", pytrace=False)
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Bootstrap skips its fade transitions under reduced motion, so modals open and close at once.
    return {**browser_context_args, "reduced_motion": "reduce"}


@pytest.fixture(scope="session")
def base_url(live_server):
    """`page.goto("/customers/")` goes to the live server."""
    return live_server.url


@pytest.fixture
def console_errors(page) -> list[str]:
    """What the page reports as errors: console errors (CSP violations, failed loads) and uncaught exceptions."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    return errors


@pytest.fixture(autouse=True)
def _strict_csp_and_no_page_errors(page, console_errors):
    """Every page is served under STRICT_CSP, so the browser itself reports whatever the policy would block;
    a test whose page logged an error fails at teardown."""
    page.route("**/*", _serve_with_strict_csp)
    yield
    assert console_errors == [], f"the page logged errors: {console_errors}"


@pytest.fixture
def sign_in(live_server, context):
    """Sign the browser in as `user` with a session made by Django's test client: faster than the login form,
    which one test goes through for real."""

    def _sign_in(user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
        return user

    return _sign_in
