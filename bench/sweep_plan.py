"""What the scale sweep requests: every route of the URL configuration, filled with real objects of the data set.

Runs inside Django (`manage.py sweep_plan` prints it as JSON for bench/sweep.py). Each route gets its path
parameters from real objects (the customer with the most attributes, an attribute of the most used filter name, its
newest history row, a definition, a job, the sweeping user's token) and, for list pages and endpoints, the query
strings in VARIANTS (filters, a deep page). A route with a parameter this module cannot fill is reported as
`unfilled`, which fails the sweep: a new URL is swept without anyone listing it, and one with a new kind of
parameter makes someone say what fills it.
"""

import dataclasses
import re

from django.contrib import admin
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Max
from django.test import RequestFactory
from django.urls import reverse

from attributes.models import Attribute, AttributeDefinition
from crm_project.api import HeaderLimitOffsetPagination
from crm_project.paging import COUNT_CAP
from crm_project.urlwalk import Route, walk
from customers.models import Customer
from jobs.models import Job
from tokens.models import ApiToken

SWEEP_USER = "bench-admin"  # made by bench/run.py's setup: a superuser, signed in and holding a token

# Routes that are not pages of their own, with the reason the sweep leaves them out.
SKIP = {
    "/admin/(?P<url>.*)$": "Django admin's catch-all for any other path (a 404, or a redirect to add a slash)",
}
SKIP_NAMESPACES = {"bench": "the benchmark's bare-SQL baselines, not the product"}

# Query strings for list pages and endpoints ("" is the plain page); {placeholders} are Objects fields.
VARIANTS: dict[str, list[str]] = {
    "customers:list": [
        "",
        "page={deep_customer_page}",
        "attribute_name={name}&attribute_value={value}",
        "attribute_name={name}&attribute_value={value}&page={deep_filtered_page}",
        "q={search}",
    ],
    "attribute": [
        "",
        "attribute_name={name}",
        "attribute_name={name}&offset={deep_filtered_offset}",
        "attribute_name={name}&after={middle_attribute_id}",  # what following the Link header's next gets to
        "after={middle_attribute_id}",
    ],
    "customer": [
        "",
        "attribute_name={name}&attribute_value={value}",
        "offset={deep_customer_offset}",
        "after={middle_customer_id}",
    ],
    "attribute-export": ["attribute_name={name}", ""],  # "" exports everything
    "attributes:filtered_export": ["attribute_name={name}&attribute_value={value}", ""],
    "attributes:history": ["", "page=2"],
    "attributes:registry": ["", "name={name}"],
}
ADMIN_SEARCH = {"attributes.attribute": "SF-00", "customers.customer": "{search}"}  # others: "bench"


@dataclasses.dataclass
class Objects:
    customer_id: int  # the customer with the most attributes
    attribute_id: int  # an attribute of the most used filter name
    own_attribute_id: int  # an attribute of that customer (for its pages)
    name: str  # the name and value filtered on most (see find_objects)
    value: str
    history_id: int  # the newest history row of that attribute
    definition_id: int | None
    job_id: str | None
    token_id: int | None
    user_id: int
    search: str  # a word of a customer's name
    customers: int
    attributes: int
    max_attribute_id: int
    with_name: int  # attributes of the most common name
    with_value: int  # of those, with its most common value

    # Deep pages and offsets: halfway through, or the deepest the lists allow (pages count and page through at most
    # COUNT_CAP rows; API offsets go to MAX_OFFSET, deeper paging is by `after`).
    @property
    def deep_customer_page(self) -> int:
        return max(1, min(self.customers, COUNT_CAP) // 25 // 2)

    @property
    def deep_customer_offset(self) -> int:
        return min(self.customers // 2, HeaderLimitOffsetPagination.MAX_OFFSET)

    @property
    def deep_filtered_page(self) -> int:
        return max(1, min(self.with_value, COUNT_CAP) // 25 // 2)

    @property
    def deep_filtered_offset(self) -> int:
        return min(self.with_name // 2, HeaderLimitOffsetPagination.MAX_OFFSET)

    @property
    def middle_attribute_id(self) -> int:
        return self.max_attribute_id // 2

    @property
    def middle_customer_id(self) -> int:
        return self.customers // 2


def find_objects() -> Objects:
    """Pick the objects the sweep visits: the heavy ones where the data set has a choice."""
    heavy = Attribute.objects.values("customer_id").annotate(n=Count("attribute_id")).order_by("-n").first()
    # The filter a list is asked for most: of the five most common names, the one whose most common value is the
    # most common (billing_method=monthly in the bench data; external_crm_id is commoner but unique per customer).
    names = Attribute.objects.values("attribute_name").annotate(n=Count("attribute_id")).order_by("-n")[:5]
    tops = []
    for common in names:
        top = (
            Attribute.objects.filter(attribute_name=common["attribute_name"])
            .values("attribute_value")
            .annotate(n=Count("attribute_id"))
            .order_by("-n")
            .first()
        )
        tops.append((top["n"], common, top))
    _, common, top = max(tops, key=lambda t: t[0])
    name = common["attribute_name"]
    customers = Customer.objects.count()
    middle = customers // 2
    attribute = (
        Attribute.objects.filter(attribute_name=name, customer_id__gte=middle).order_by("customer_id").first()
        or Attribute.objects.filter(attribute_name=name).first()
    )
    history = Attribute.history.model.objects.filter(attribute_id=attribute.pk).order_by("-history_id").first()
    user = User.objects.get(username=SWEEP_USER)
    job = Job.objects.order_by("-created").values_list("job_id", flat=True).first()
    customer = Customer.objects.get(pk=heavy["customer_id"])
    return Objects(
        customer_id=heavy["customer_id"],
        attribute_id=attribute.pk,
        own_attribute_id=Attribute.objects.filter(customer_id=heavy["customer_id"]).order_by("pk")[0].pk,
        name=name,
        value=top["attribute_value"],
        history_id=history.pk,
        definition_id=AttributeDefinition.objects.order_by("pk").values_list("pk", flat=True).first(),
        job_id=str(job) if job else None,
        token_id=ApiToken.objects.filter(user=user).values_list("pk", flat=True).first(),
        user_id=user.pk,
        search=(customer.customer_name.split() or ["a"])[0],
        customers=customers,
        attributes=Attribute.objects.count(),
        max_attribute_id=Attribute.objects.aggregate(m=Max("pk"))["m"] or 0,
        with_name=common["n"],
        with_value=top["n"],
    )


def _model_objects(objects: Objects) -> dict[str, object]:
    return {
        "customers.customer": objects.customer_id,
        "attributes.attribute": objects.attribute_id,
        "attributes.attributedefinition": objects.definition_id,
        "jobs.job": objects.job_id,
        "tokens.apitoken": objects.token_id,
        "auth.user": objects.user_id,
    }


def _refused_by_admin(route: Route, model_admin, request) -> str | None:
    """Why the admin refuses this page to a superuser too (a read-only admin has no add or delete page)."""
    if route.name.endswith("_add") and not model_admin.has_add_permission(request):
        return "the admin has no add page (has_add_permission is False for everyone)"
    if route.name.endswith("_delete") and not model_admin.has_delete_permission(request):
        return "the admin has no delete page (has_delete_permission is False for everyone)"
    return None


def _path_values(route: Route, objects: Objects, request) -> tuple[dict, str | None]:
    """The route's path parameters, or the reason none can be given (no object of that kind in the data set)."""
    values: dict[str, object] = {"customer_id": objects.customer_id, "attribute_id": objects.attribute_id}
    values["history_id"] = objects.history_id
    if objects.job_id:
        values["job_id"] = objects.job_id
    namespace = route.namespace
    model_admin = getattr(route.callback, "model_admin", None)
    if namespace == "attributes":  # a customer's pages show only its own attributes
        values["attribute_id"] = objects.own_attribute_id
    if namespace == "customers":
        values["pk"] = objects.customer_id
    elif route.name.startswith("attributes:registry_") and objects.definition_id:
        values["pk"] = objects.definition_id
    elif namespace == "tokens" and objects.token_id:
        values["pk"] = objects.token_id
    if "name" in route.params:  # GET /crm/attribute/definition/{name}: the first definition's name
        name = AttributeDefinition.objects.order_by("name").values_list("name", flat=True).first()
        if name is None:
            return {}, "no attribute definitions in the data set"
        values["name"] = name
    if model_admin is not None and (refused := _refused_by_admin(route, model_admin, request)):
        return {}, refused
    if model_admin is not None and "object_id" in route.params:
        label = model_admin.model._meta.label_lower
        pk = _model_objects(objects).get(label)
        if pk is None:
            pk = model_admin.model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        if pk is None:
            return {}, f"no {label} rows in the data set"
        values["object_id"] = pk
    if "webhook_id" in route.params:
        from webhooks.models import Delivery, Webhook

        webhook = Webhook.objects.order_by("created").values_list("pk", flat=True).first()
        if webhook is None:
            return {}, "no webhook in the data set (the sweep's data subscribes none)"
        values["webhook_id"], values["action"] = str(webhook), "test"
        delivery = Delivery.objects.filter(webhook_id=webhook).order_by("-id").values_list("pk", flat=True).first()
        if "delivery_id" in route.params and delivery is None:
            return {}, "no webhook delivery in the data set"
        values["delivery_id"] = delivery
    if route.name == "attribute-definition":  # the registry API, by name (merged from the sensitive branch)
        name = AttributeDefinition.objects.order_by("pk").values_list("name", flat=True).first()
        if name is None:
            return {}, "no definition in the data set"
        values["name"] = name
    if route.name == "admin:auth_user_password_change":
        values["id"] = objects.user_id
    if route.name == "admin:autocomplete":
        return {}, "no ModelAdmin of ours uses autocomplete_fields (the view answers 403 without one)"
    if route.name == "admin:view_on_site":
        values["content_type_id"] = ContentType.objects.get_for_model(Customer).pk
        values["object_id"] = objects.customer_id
    missing = [param for param in route.params if param not in values and param != "app_label"]
    if missing:
        return {param: None for param in missing}, None
    return {param: values[param] for param in route.params if param != "app_label"}, None


def _fill(route: Route, kwargs: dict) -> str:
    if not route.name.startswith("/"):
        return reverse(route.name, kwargs=kwargs)
    # An unnamed path() route: put the values in its <converter:name> placeholders.
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), route.route)


def _queries(route: Route, objects: Objects) -> list[str]:
    derived = {p: getattr(objects, p) for p in dir(Objects) if p.startswith(("deep", "middle"))}
    fields = {**dataclasses.asdict(objects), **derived}
    model_admin = getattr(route.callback, "model_admin", None)
    if model_admin is not None and route.name.endswith("_changelist"):
        label = model_admin.model._meta.label_lower
        queries = ["", f"p={max(1, model_admin.model._default_manager.count() // model_admin.list_per_page // 2)}"]
        if model_admin.search_fields:
            queries.append("q=" + ADMIN_SEARCH.get(label, "bench"))
    else:
        queries = VARIANTS.get(route.name, [""])
    return [query.format(**fields) for query in queries]


def build_plan(objects: Objects | None = None) -> dict:
    """Every route: the requests to make (path, auth), the routes skipped and why, and those it cannot fill."""
    objects = objects or find_objects()
    requests, skipped, unfilled = [], [], []
    request = RequestFactory().get("/")
    request.user = User.objects.get(pk=objects.user_id)
    app_labels = sorted({model._meta.app_label for model in admin.site._registry})
    routes = sorted(set(walk()), key=lambda r: (("logout" in r.name), r.name))  # sign-out last, whatever it does
    for route in routes:
        reason = SKIP.get(route.name) or SKIP_NAMESPACES.get(route.namespace.split(":")[0])
        if reason:
            skipped.append({"route": route.name, "reason": reason})
            continue
        kwargs, reason = _path_values(route, objects, request)
        if reason:
            skipped.append({"route": route.name, "reason": reason})
            continue
        if missing := [param for param, value in kwargs.items() if value is None]:
            unfilled.append({"route": route.name, "pattern": route.route, "params": missing})
            continue
        fills = [{**kwargs, "app_label": label} for label in app_labels] if "app_label" in route.params else [kwargs]
        for fill in fills:
            path = _fill(route, fill)
            for query in _queries(route, objects):
                requests.append(
                    {
                        "route": route.name,
                        "pattern": route.route,
                        "path": path + ("?" + query if query else ""),
                        "variant": query or (fill.get("app_label", "") if len(fills) > 1 else ""),
                        "auth": "bearer" if route.is_api else "session",
                    }
                )
    return {
        "objects": dataclasses.asdict(objects),
        "routes": [route.name for route in routes],
        "requests": requests,
        "skipped": skipped,
        "unfilled": unfilled,
    }
