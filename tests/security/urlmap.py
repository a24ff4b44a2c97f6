"""The project's URLs, from its URL configuration, and what each one needs (used by the sweep and the CSRF tests).

Needs: "public" (anyone), "login" (any signed-in user), "staff" (Django admin) or the permission codenames that
must all be held.
"""

import dataclasses
from io import BytesIO

from django.contrib.auth.models import User
from django.urls import reverse

from attributes import services
from crm_project.urlwalk import Route, walk
from events.services import events_sequence
from jobs.models import Job
from tests.factories import make_attribute, make_user
from tokens.models import ApiToken

PUBLIC, LOGIN, STAFF = "public", "login", "staff"
# /metrics: no user or permission reads it, only METRICS_TOKEN or METRICS_ALLOWED_IPS (tests/ops/test_metrics.py);
# with neither set, as in the suite, it is a 404 for everyone.
METRICS = "metrics token"
VIEW_C, ADD_C, CHANGE_C, DELETE_C = "view_customer", "add_customer", "change_customer", "delete_customer"
VIEW_A, CREATE_A, UPDATE_A, DELETE_A = (
    "view_customer_attribute",
    "create_customer_attribute",
    "update_customer_attribute",
    "delete_customer_attribute",
)
REGISTRY = "manage_attribute_registry"
HOOKS = "manage_webhooks"

# URL name (namespace:name; the route for an unnamed URL) -> method -> what it needs. A page or endpoint that shows
# customer data (names, status) or searches customers needs VIEW_C as well as its own permission
# (attributes/permissions.py CUSTOMER_VIEW); test_permission_sweep checks that no other one shows customer names.
EXPECTED: dict[str, dict[str, str | tuple[str, ...]]] = {
    "/": {"GET": PUBLIC},  # redirects to the customer list, which then asks for sign-in
    "healthz": {"GET": PUBLIC},
    "readyz": {"GET": PUBLIC},
    "metrics": {"GET": METRICS},
    "login": {"GET": PUBLIC},
    "logout": {"POST": PUBLIC},
    "password_change": {"GET": LOGIN},
    "password_change_done": {"GET": LOGIN},
    "admin:*": {"GET": STAFF},  # every admin URL: see test_admin_is_for_staff_only
    # Pages
    "customers:list": {"GET": (VIEW_C,)},
    "customers:create": {"GET": (ADD_C,), "POST": (ADD_C,)},
    "customers:detail": {"GET": (VIEW_C,)},
    "customers:update": {"GET": (CHANGE_C,), "POST": (CHANGE_C,)},
    "customers:delete": {"GET": (DELETE_C,), "POST": (DELETE_C,)},
    "attributes:tab": {"GET": (VIEW_A, VIEW_C)},
    "attributes:export": {"GET": (VIEW_A, VIEW_C)},
    "attributes:create": {"GET": (CREATE_A, VIEW_C), "POST": (CREATE_A, VIEW_C)},
    "attributes:history": {"GET": (VIEW_A, VIEW_C)},
    "attributes:restore": {"POST": (CREATE_A, VIEW_C)},
    "attributes:update": {"GET": (UPDATE_A, VIEW_C), "POST": (UPDATE_A, VIEW_C)},
    "attributes:delete": {"GET": (DELETE_A, VIEW_C), "POST": (DELETE_A, VIEW_C)},
    "attributes:filtered_export": {"GET": (VIEW_A, VIEW_C)},
    "attributes:import": {"GET": (CREATE_A, UPDATE_A), "POST": (CREATE_A, UPDATE_A)},
    "attributes:usage": {"GET": (VIEW_A,)},
    "attributes:rename": {"GET": (UPDATE_A, DELETE_A, REGISTRY), "POST": (UPDATE_A, DELETE_A, REGISTRY)},
    "attributes:registry": {"GET": (REGISTRY,)},
    "attributes:reveal_log": {"GET": (REGISTRY,)},
    "attributes:reveal": {"POST": (VIEW_A, VIEW_C, "view_sensitive_customer_attribute")},
    "attributes:registry_create": {"GET": (REGISTRY,), "POST": (REGISTRY,)},
    "attributes:registry_update": {"GET": (REGISTRY,), "POST": (REGISTRY,)},
    "attributes:registry_delete": {"GET": (REGISTRY,), "POST": (REGISTRY,)},
    "tokens:list": {"GET": LOGIN, "POST": LOGIN},  # each user's own tokens
    "tokens:revoke": {"POST": LOGIN},  # only one's own (another user's token is a 404)
    "jobs:list": {"GET": LOGIN},  # each user's own jobs (everyone's with view_all_jobs)
    "jobs:detail": {"GET": LOGIN},  # only one's own (another user's job is a 404)
    "jobs:cancel": {"POST": LOGIN},
    "webhooks:list": {"GET": (HOOKS,), "POST": (HOOKS,)},
    "webhooks:detail": {"GET": (HOOKS,)},
    "webhooks:action": {"POST": (HOOKS,)},
    "webhooks:retry": {"POST": (HOOKS,)},
    # API
    "schema": {"GET": PUBLIC},
    "swagger-ui": {"GET": PUBLIC},
    "attribute": {"GET": (VIEW_A,), "PUT": (CREATE_A,)},
    "attribute-bulk": {"PUT": (CREATE_A,)},
    "attribute-export": {"GET": (VIEW_A, VIEW_C)},
    "attribute-usage": {"GET": (VIEW_A,)},
    "attribute-rename": {"POST": (UPDATE_A, DELETE_A, REGISTRY)},
    "attribute-import": {"POST": (CREATE_A, UPDATE_A)},
    "attribute-detail": {"GET": (VIEW_A,), "PATCH": (UPDATE_A,), "DELETE": (DELETE_A,)},
    "attribute-customer": {"GET": (VIEW_A,)},
    "attribute-history": {"GET": (VIEW_A,)},
    "attribute-customer-history": {"GET": (VIEW_A,)},
    "attribute-history-restore": {"POST": (CREATE_A,)},  # the deleted attribute's row: a create
    "attribute-definitions": {"GET": (VIEW_A,)},
    "attribute-reveal-log": {"GET": (REGISTRY,)},
    "attribute-definition": {"GET": (VIEW_A,), "PUT": (REGISTRY,), "DELETE": (REGISTRY,)},
    "customer": {"GET": (VIEW_C,), "PUT": (ADD_C,)},
    "customer-detail": {"GET": (VIEW_C,), "PATCH": (CHANGE_C,), "DELETE": (DELETE_C,)},
    "job": {"GET": LOGIN},
    "job-detail": {"GET": LOGIN},
    "job-cancel": {"POST": LOGIN},
    "event-feed": {"GET": (VIEW_A,)},
    "webhook": {"GET": (HOOKS,), "POST": (HOOKS,)},
    "webhook-detail": {"GET": (HOOKS,), "PATCH": (HOOKS,), "DELETE": (HOOKS,)},
    "webhook-rotate-secret": {"POST": (HOOKS,)},
    "webhook-test": {"POST": (HOOKS,)},
    "webhook-deliveries": {"GET": (HOOKS,)},
    "webhook-delivery-retry": {"POST": (HOOKS,)},
    "webhook-replay": {"POST": (HOOKS,)},
}
# A receiver that can never be reached (.invalid never resolves): the sweep's test sends fail fast, offline.
SWEEP_WEBHOOK_URL = "https://webhook.invalid/hook"


# Django admin is one entry, checked by test_admin_is_for_staff_only.
ROUTES = sorted(set(walk(collapse=frozenset({"admin"}))), key=lambda r: r.name)
SWEPT = [
    (route, method)
    for route in ROUTES
    if route.name != "admin:*"
    for method in sorted({"GET", *EXPECTED.get(route.name, {"GET": None})})
]


@dataclasses.dataclass
class Objects:
    customer_id: int
    attribute_id: int
    history_id: int  # a deleted attribute's history row: restoring it needs only create permission
    definition_id: int
    webhook_id: str
    delivery_id: int


def make_objects(world) -> Objects:
    from webhooks.services import fan_out, webhook_create

    webhook, _ = webhook_create(actor=None, url=SWEEP_WEBHOOK_URL, event_types=["*"], attribute_names=[])
    legacy = make_attribute(world.customer, "legacy_id", "OLD-1")
    services.attribute_delete(attribute=legacy, actor=None)
    history_id = legacy.history.model.objects.filter(attribute_id=legacy.pk).order_by("history_id").first().pk
    events_sequence()
    fan_out()  # the legacy attribute's events become the webhook's deliveries (nothing is sent)
    delivery_id = webhook.deliveries.order_by("id").values_list("id", flat=True).first()
    return Objects(world.customer.pk, world.attribute.pk, history_id, world.definition.pk, str(webhook.pk), delivery_id)


def url_kwargs(route: Route, objects: Objects, user: User | None) -> dict:
    namespace = route.name.partition(":")[0] if ":" in route.name else ""
    values = {
        "customer_id": objects.customer_id,
        "attribute_id": objects.attribute_id,
        "history_id": objects.history_id,
        "webhook_id": objects.webhook_id,
        "delivery_id": objects.delivery_id,
        "action": "disable",
        "uidb64": "MQ",
        "token": "set-password",
        "name": "billing_method",  # the world's definition
    }
    if "pk" in route.params:
        if namespace == "customers":
            values["pk"] = objects.customer_id
        elif route.name.startswith("attributes:registry_"):
            values["pk"] = objects.definition_id
        elif namespace == "tokens":  # the visitor's own token (or anyone's, for the anonymous visitor)
            owner = user or make_user()
            values["pk"] = ApiToken.issue(user=owner, name="sweep")[0].pk
    if "job_id" in route.params:  # a running job of the visitor's own (or anyone's, for the anonymous visitor)
        values["job_id"] = make_job(user or make_user()).pk
    unknown = [param for param in route.params if param not in values]
    assert not unknown, f"{route.name}: tell the sweep which object fills {unknown}"
    return {param: values[param] for param in route.params}


def make_job(owner: User) -> Job:
    """A job halfway through, as a worker leaves it between two chunks (no worker runs in these tests)."""
    return Job.objects.create(
        kind="tests.count", params={"to": 10}, status=Job.Status.RUNNING, done=4, total=10, created_by=owner
    )


@dataclasses.dataclass(frozen=True)
class RawBody:
    """A body sent as is, with its content type (not JSON-encoded)."""

    content: str
    content_type: str


def request_body(route: Route, method: str, objects: Objects):
    """A minimal body that succeeds for a visitor who holds the permission."""
    if method in {"GET", "DELETE"}:
        return None
    if route.name == "attribute-import":  # the one API body that is not JSON
        return RawBody(f"customer_id,attribute_name,attribute_value\n{objects.customer_id},sweep_name,x\n", "text/csv")
    if route.is_api:
        item = {"customer_id": objects.customer_id, "attribute_name": "sweep_name", "attribute_value": "x"}
        return {
            "attribute": item,
            "attribute-bulk": [item],
            "attribute-rename": {"old_name": "support_tier", "new_name": "tier", "dry_run": True},
            "attribute-detail": {"attribute_value": "changed"},
            "attribute-definition": {"description": "changed"},
            "attribute-history-restore": None,
            "customer": {"customer_name": "Swept"},
            "customer-detail": {"notes": "changed"},
            "job-cancel": None,
            "webhook": {"url": SWEEP_WEBHOOK_URL, "event_types": ["*"]},
            "webhook-detail": {"description": "changed"},
            "webhook-rotate-secret": None,
            "webhook-test": None,
            "webhook-delivery-retry": None,
            "webhook-replay": {"after": 0},
        }[route.name]
    customer = {"customer_name": "Swept", "customer_account_type": "Individual", "customer_status": "Open"}
    csv_file = BytesIO(f"customer_id,attribute_name,attribute_value\n{objects.customer_id},sweep_name,x\n".encode())
    csv_file.name = "sweep.csv"
    return {
        "customers:create": customer,
        "customers:update": customer,
        "attributes:create": {"attribute_name": "sweep_name", "attribute_value": "x"},
        "attributes:update": {"attribute_name": "external_crm_id", "attribute_value": "changed"},
        "attributes:import": {"file": csv_file},
        "attributes:rename": {"old_name": "support_tier", "new_name": "tier"},
        "attributes:registry_create": {"name": "sweep_name", "value_type": "text"},
        "attributes:registry_update": {"value_type": "text", "description": "changed"},
        "tokens:list": {"name": "sweep"},
        "webhooks:list": {"url": SWEEP_WEBHOOK_URL, "event_types": ["*"]},
    }.get(route.name, {})


def plain_path(route: Route) -> str:
    return reverse(route.name) if not route.name.startswith("/") else route.name


def url_for(route: Route, objects: Objects, user: User | None = None) -> str:
    """A concrete path for the route, its ids filled with real objects."""
    return reverse(route.name, kwargs=url_kwargs(route, objects, user)) if route.params else plain_path(route)
