"""Every page of ours, at a desktop and a phone width: no serious or critical axe-core violation, no sideways
scrolling at 390 px, every row action reachable and clickable, and a favicon instead of a 404.

The pages come from the URL configuration (tests/security/urlmap.py walks it), so a new page is checked without
anyone adding it here; EXCLUDED says why a URL is not a page of ours. States a URL alone does not reach (modals
opened, forms with errors, the import report, sign-out, lockout, error pages) are listed in STATES.
"""

import dataclasses
from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from attributes import services
from attributes.models import AttributeDefinition
from events.services import events_sequence
from tests.factories import make_attribute, make_customer
from tests.security.urlmap import EXPECTED, ROUTES, Objects, Route, url_for
from tokens.models import ApiToken
from webhooks.services import fan_out, webhook_create

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
BLOCKING_IMPACTS = ("serious", "critical")

# URL name -> why the page check does not visit it.
EXCLUDED = {
    "/": "redirects to the customer list",
    "healthz": "JSON for load balancers",
    "readyz": "JSON for load balancers",
    "metrics": "Prometheus text for a scraper (404 unless METRICS_TOKEN or METRICS_ALLOWED_IPS is set)",
    "schema": "the OpenAPI document, not HTML",
    "swagger-ui": "Swagger UI's own markup is exempt",
    "attributes:export": "a CSV download",
    "attributes:filtered_export": "a CSV download",
    "admin:*": "Django admin's markup: test_django_admin_pages reports it",
    "password_change": "rendered by Django admin's templates: test_django_admin_pages reports it",
    "password_change_done": "rendered by Django admin's templates: test_django_admin_pages reports it",
}
ANONYMOUS = {"login"}  # shown to visitors who are not signed in

_axe = Axe()


@dataclasses.dataclass(frozen=True)
class Data:
    user: User
    objects: Objects
    customer_id: int


def make_data() -> Data:
    """One of everything a page lists, with a value as long as allowed and without spaces (the widest cell)."""
    user = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-1")
    customer = make_customer(customer_name="Acme Fiber Ltd", email="billing@acme.example", notes="Key account.")
    for n in range(3):
        make_customer(customer_name=f"Other Networks {n}")
    definition = AttributeDefinition(
        name="support_tier", value_type="choice", choices="gold\nsilver", description="Support level.", protected=True
    )
    definition.full_clean()
    definition.save()
    attribute = make_attribute(customer, "external_crm_id", "SF-12345")
    make_attribute(customer, "support_tier", "gold")
    make_attribute(customer, "provisioning_blob", "x" * 150)
    legacy = make_attribute(customer, "legacy_id", "OLD-1")
    services.attribute_delete(attribute=legacy, actor=None)
    history_id = legacy.history.model.objects.filter(attribute_id=legacy.pk).order_by("history_id").first().pk
    ApiToken.issue(user=user, name="billing sync")
    webhook, _ = webhook_create(
        actor=None, url="https://webhook.invalid/hook", event_types=["*"], attribute_names=["billing_*"]
    )
    make_attribute(customer, "billing_cycle", "quarterly")
    events_sequence()
    fan_out()  # one pending delivery for the Webhooks page to list (nothing is sent)
    delivery = webhook.deliveries.get()
    objects = Objects(customer.pk, attribute.pk, history_id, definition.pk, str(webhook.pk), delivery.pk)
    return Data(user, objects, customer.pk)


@dataclasses.dataclass(frozen=True)
class Visit:
    id: str
    path: Callable[[Data], str]
    signed_in: bool = True
    then: Callable[[Page], None] | None = None  # brings the page into the state to check
    status: int = 200
    logged_status: int | None = None  # the status the page's state ends on, which the console logs


def _route_visit(route: Route) -> Visit:
    return Visit(
        route.name, lambda data, route=route: url_for(route, data.objects, data.user), route.name not in ANONYMOUS
    )


PAGES = [
    _route_visit(route)
    for route in ROUTES
    if route.name not in EXCLUDED and not route.is_api and "GET" in EXPECTED.get(route.name, {"GET": "new page"})
]


def _open_modal(link_name: str) -> Callable[[Page], None]:
    def _open(page: Page) -> None:
        page.get_by_role("link", name=link_name, exact=True).first.click()
        expect(page.locator("#attribute-modal")).to_be_visible()
        expect(page.locator("#attribute-modal .modal-title")).to_be_visible()

    return _open


def _submit_empty_modal(page: Page) -> None:
    _open_modal("Add Attribute")(page)
    page.locator("#attribute-modal").get_by_role("button", name="Create Attribute").click()
    expect(page.locator("#attribute-modal .invalid-feedback").first).to_be_visible()


def _submit_empty_form(page: Page) -> None:
    page.locator("main form[method=post] [type=submit]").last.click()
    expect(page.locator(".invalid-feedback, .alert-danger").first).to_be_visible()


def _import_a_file(page: Page) -> None:
    page.locator("input[type=file]").set_input_files(
        files=[
            {
                "name": "attributes.csv",
                "mimeType": "text/csv",
                "buffer": b"customer_id,attribute_name,attribute_value\n1,imported_flag,yes\nnope,x,y\n",
            }
        ]
    )
    page.locator("main form [type=submit]").last.click()
    page.wait_for_load_state()


def _sign_out(page: Page) -> None:
    """Signing out lands on the sign-in page (LOGOUT_REDIRECT_URL), with the session's messages."""
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def _lock_out(page: Page) -> None:
    for _ in range(6):
        if not page.locator("#id_username").count():
            break
        page.locator("#id_username").fill("root")
        page.locator("#id_password").fill("wrong-password")
        page.locator("main form [type=submit]").click()
        page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Too many failed sign-in attempts")).to_be_visible()


def _tab(data: Data) -> str:
    return f"/customers/{data.customer_id}/attributes/"


STATES = [
    Visit("attributes:tab + Add modal", _tab, then=_open_modal("Add Attribute")),
    Visit("attributes:tab + Add modal with errors", _tab, then=_submit_empty_modal),
    Visit("attributes:tab + Edit modal", _tab, then=_open_modal("Edit external_crm_id")),
    Visit("attributes:tab + Delete modal", _tab, then=_open_modal("Delete external_crm_id")),
    Visit("customers:create with errors", lambda data: "/customers/new/", then=_submit_empty_form),
    Visit("attributes:registry_create with errors", lambda data: "/attributes/registry/new/", then=_submit_empty_form),
    Visit("attributes:import report", lambda data: "/attributes/import/", then=_import_a_file),
    Visit("logged out", lambda data: "/customers/", then=_sign_out),
    Visit("locked out", lambda data: "/accounts/login/", signed_in=False, then=_lock_out, logged_status=429),
    Visit("404", lambda data: "/customers/999999/", status=404),
    Visit("404 signed out", lambda data: "/no-such-page/", signed_in=False, status=404),
    Visit("403", lambda data: f"/customers/{data.customer_id}/", status=403),  # as a user without permissions
]


def _go(page: Page, sign_in, visit: Visit, console_errors: list[str]) -> Data:
    data = make_data()
    if visit.signed_in:
        if visit.status == 403:
            sign_in(User.objects.create_user("nobody", password="pw-for-tests-1"))
        else:
            sign_in(data.user)
    response = page.goto(visit.path(data))
    assert response is not None and response.status == visit.status, f"{visit.id}: {response and response.status}"
    assert response.headers.get("content-type", "").startswith("text/html"), f"{visit.id} is not an HTML page"
    if visit.then:
        visit.then(page)
    # An error page's own status is logged as a failed load; that one is expected, nothing else is.
    status = visit.logged_status or visit.status
    expected = f"the server responded with a status of {status}"
    console_errors[:] = [error for error in console_errors if status == 200 or expected not in error]
    return data


def axe_report(page: Page, where: str, known: dict[tuple[str, str], str] | None = None, preload: bool = True) -> str:
    """The serious and critical violations on the page, one rule a paragraph, each node with its selector.
    `known` maps (rule, selector prefix) to why that violation is accepted."""
    results = _axe.run(page, options={"resultTypes": ["violations"], "preload": preload})
    lines = []
    for violation in results.response["violations"]:
        if violation["impact"] not in BLOCKING_IMPACTS:
            continue
        nodes = [
            node
            for node in violation["nodes"]
            if not any(
                rule == violation["id"] and " ".join(map(str, node["target"])).startswith(prefix)
                for rule, prefix in (known or {})
            )
        ]
        if not nodes:
            continue
        rule = f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})"
        lines.append(f"{where}: {rule}")
        for node in nodes:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary[:300]}")
    return "\n".join(lines)


# For each link or button in a table row: None if, after scrolling the page only vertically, it lies inside the
# viewport, no scrolling container clips it and a click at its centre lands on it; otherwise why not.
UNREACHABLE = """(element) => {
  const box = element.getBoundingClientRect();
  window.scrollTo(0, window.scrollY + box.top - window.innerHeight / 2);
  const r = element.getBoundingClientRect();
  const width = document.documentElement.clientWidth;
  if (r.width === 0 || r.height === 0) return "has no size";
  if (r.left < 0 || r.right > width) return `lies outside the viewport (x ${r.left}..${r.right} of ${width})`;
  for (let parent = element.parentElement; parent; parent = parent.parentElement) {
    if (getComputedStyle(parent).overflowX === "visible") continue;
    const p = parent.getBoundingClientRect();
    if (r.left < p.left - 1 || r.right > p.right + 1) return `is clipped by ${parent.tagName}.${parent.className}`;
  }
  const line = element.getClientRects()[0];  // a link wrapped over two lines: its first line
  const hit = document.elementFromPoint(line.left + line.width / 2, line.top + line.height / 2);
  if (!hit) return "is not under a click at its centre";
  if (hit !== element && !element.contains(hit)) return `is covered by ${hit.outerHTML.slice(0, 80)}`;
  return null;
}"""


def layout_problems(page: Page, where: str) -> list[str]:
    problems = []
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if widths[0] > widths[1]:
        problems.append(f"{where}: the page scrolls sideways ({widths[0]} px wide in a {widths[1]} px viewport)")
    if page.locator(".modal.show").count():  # rows behind an open modal are not meant to be clicked
        return problems
    actions = page.locator("table tbody tr").locator("a, button")
    for index in range(actions.count()):
        action = actions.nth(index)
        reason = action.evaluate(UNREACHABLE)
        if reason:
            label = action.get_attribute("aria-label") or action.inner_text().strip()
            problems.append(f"{where}: row action {label!r} {reason}")
    return problems


@pytest.mark.parametrize("visit", PAGES + STATES, ids=lambda visit: visit.id)
def test_page_is_accessible_and_fits_a_phone(page: Page, sign_in, console_errors, visit: Visit):
    page.set_viewport_size(DESKTOP)
    _go(page, sign_in, visit, console_errors)
    report = [axe_report(page, f"{visit.id} at {DESKTOP['width']} px")]

    page.set_viewport_size(PHONE)
    page.evaluate("window.scrollTo(0, 0)")
    report.append(axe_report(page, f"{visit.id} at {PHONE['width']} px"))
    report.extend(layout_problems(page, f"{visit.id} at {PHONE['width']} px"))

    report = [line for line in report if line]
    assert not report, "\n" + "\n".join(report)


def test_every_url_is_a_checked_page_or_excluded_with_a_reason():
    """A new page gets checked: only the URLs named in EXCLUDED (each with its reason) are left out."""
    names = {route.name for route in ROUTES}
    assert set(EXCLUDED) <= names, f"EXCLUDED names URLs that no longer exist: {sorted(set(EXCLUDED) - names)}"
    checked = {visit.id for visit in PAGES}
    for must in ("customers:list", "customers:detail", "attributes:tab", "attributes:history", "tokens:list"):
        assert must in checked


def test_favicon_is_served_and_linked_without_console_errors(page: Page, sign_in, console_errors):
    data = make_data()
    sign_in(data.user)
    response = page.request.get("/favicon.ico")
    assert response.status == 200
    assert response.headers["content-type"] in {"image/x-icon", "image/vnd.microsoft.icon"}
    assert response.body()[:4] == b"\x00\x00\x01\x00"  # an ICO header

    page.goto(f"/customers/{data.customer_id}/attributes/")
    icon = page.locator('link[rel="icon"][type="image/svg+xml"]')
    expect(icon).to_have_count(1)
    svg = page.request.get(icon.get_attribute("href"))
    assert svg.status == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    page.goto("/admin/")
    expect(page.locator('link[rel="icon"]')).not_to_have_count(0)
    assert console_errors == []


ADMIN_PAGES = [
    "/admin/",
    "/admin/customers/customer/",
    "/admin/customers/customer/{customer_id}/change/",
    "/admin/attributes/attribute/",
    "/admin/attributes/attribute/{attribute_id}/change/",
    "/admin/attributes/attributedefinition/",
    "/admin/attributes/attributedefinition/add/",
    "/admin/auth/user/",
    "/accounts/password_change/",
]


# Django admin's own markup that our CSS cannot fix, and why it is accepted.
ADMIN_KNOWN = {
    # TabularInline renders its fields without <label>s (the column header names them visually): Django's markup.
    ("label", "#id_attributes-"): "Django's TabularInline has no per-field labels",
}


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_django_admin_pages(page: Page, sign_in, console_errors, path: str):
    """Django admin is not our markup, but our users use it: it is held to the same bar, at desktop width, except
    for ADMIN_KNOWN."""
    data = make_data()
    sign_in(data.user)
    page.set_viewport_size(DESKTOP)
    response = page.goto(path.format(customer_id=data.customer_id, attribute_id=data.objects.attribute_id))
    assert response is not None and response.status == 200
    # No CSSOM preload: axe would fetch admin's forms.css @import relative to the page and log a 404.
    report = axe_report(page, path, known=ADMIN_KNOWN, preload=False)
    # Django admin sets inline styles from its scripts, which STRICT_CSP blocks; that is admin's, not ours.
    console_errors[:] = [error for error in console_errors if "Applying inline style violates" not in error]
    assert not report, "\n" + report


def test_axe_finds_a_violation_when_there_is_one(page: Page, sign_in):
    """The check can fail: light grey text on the body's grey background is reported as serious."""
    data = make_data()
    sign_in(data.user)
    page.goto(f"/customers/{data.customer_id}/")
    page.evaluate("""() => {
      const p = document.createElement("p");
      p.textContent = "barely visible";
      p.style.color = "#bbbbbb";
      document.querySelector("main").append(p);
    }""")
    assert "color-contrast" in axe_report(page, "planted")
