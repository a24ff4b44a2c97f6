import hashlib

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from customers.models import Customer

from .validators import NAME_MAX_LENGTH, VALUE_MAX_LENGTH, validate_attribute_name, validate_attribute_value


class AttributeHistoryBase(models.Model):
    """Extra columns of each history row (see attributes/history.py)."""

    operation = models.CharField(max_length=20, blank=True, help_text="create, update, rename, delete, restore…")
    channel = models.CharField(max_length=20, blank=True, help_text="ui, api, admin, cli, seed or system")
    actor_name = models.CharField(max_length=150, blank=True, help_text="username at the time of the change")
    token_name = models.CharField(max_length=100, blank=True, help_text="API token used, if any")
    previous_name = models.CharField(max_length=NAME_MAX_LENGTH, blank=True)
    previous_value = models.CharField(max_length=VALUE_MAX_LENGTH, blank=True)

    class Meta:
        abstract = True


class IndexedHistoricalRecords(HistoricalRecords):
    """simple-history's records with the indexes our history reads need at tens of millions of rows.

    A customer's History tab and the history API read `WHERE customer_id = … ORDER BY history_date DESC,
    history_id DESC LIMIT …`, one attribute's history the same by `attribute_id`: these composite indexes give
    the rows in that order, so a page costs its rows, not a sort of the customer's whole history. They replace
    the single-column indexes simple-history puts on `customer_id` and `attribute_id` (whose lookups they
    serve too), so writes carry no extra index; `history_date`'s own index serves `prune_history`.
    """

    def get_meta_options(self, model):
        options = super().get_meta_options(model)
        options["indexes"] = [
            models.Index(fields=["customer", "-history_date", "-history_id"], name="history_customer_date_idx"),
            models.Index(fields=["attribute_id", "-history_date", "-history_id"], name="history_attribute_date_idx"),
        ]
        return options


class Attribute(models.Model):
    """A free-form key/value pair on a customer: one value per name per customer, values of 1-150 characters.

    Write only through `attributes.services`: it validates, checks permissions and is safe under concurrency.
    """

    attribute_id = models.BigAutoField(primary_key=True)
    # No index of its own: the unique (customer, attribute_name) index serves every lookup by customer, and one
    # index less makes every write cheaper.
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="attributes", db_index=False)
    attribute_name = models.CharField(
        "attribute name", max_length=NAME_MAX_LENGTH, validators=[validate_attribute_name]
    )
    attribute_value = models.CharField(
        "attribute value", max_length=VALUE_MAX_LENGTH, validators=[validate_attribute_value]
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    last_modified = models.DateTimeField(default=timezone.now, editable=False)
    # A sensitive name's value, encrypted (attributes/sensitive.py); attribute_value then holds its index token.
    # Empty for every other value. `db_default`: the bulk and raw-SQL inserts of plain values need not name it.
    value_ciphertext = models.TextField(blank=True, default="", db_default="", editable=False)

    # Every change, from any path; rows outlive the attribute and go only with the customer. History keeps the
    # index token of a sensitive value, never its ciphertext: old values are not decryptable from history rows.
    history = IndexedHistoricalRecords(
        bases=[AttributeHistoryBase],
        excluded_fields=["value_ciphertext"],
        user_db_constraint=False,
        no_db_index=["attribute_id", "customer"],
    )

    class Meta:
        ordering = ["attribute_name"]
        default_permissions = ()
        permissions = [
            ("view_customer_attribute", "Can view customer attributes"),
            ("create_customer_attribute", "Can create customer attributes"),
            ("update_customer_attribute", "Can update customer attributes"),
            ("delete_customer_attribute", "Can delete customer attributes"),
            ("view_sensitive_customer_attribute", "Can view the values of sensitive customer attributes"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["customer", "attribute_name"], name="attribute_unique_name_per_customer"),
            models.CheckConstraint(
                condition=GreaterThanOrEqual(Length("attribute_name"), 1), name="attribute_name_not_empty"
            ),
            models.CheckConstraint(
                condition=GreaterThanOrEqual(Length("attribute_value"), 1)
                & LessThanOrEqual(Length("attribute_value"), VALUE_MAX_LENGTH),
                name="attribute_value_length_1_150",
            ),
        ]
        indexes = [
            # Find customers by attribute: matches come out in customer_id order, so a page of results and
            # its count are index-only scans (EXPLAIN at 1M rows in bench/run.py).
            models.Index(fields=["attribute_name", "attribute_value", "customer"], name="attribute_name_value_idx"),
            # The admin's search by value prefix across names (`SF-00`): a range scan instead of reading every row.
            models.Index(fields=["attribute_value"], name="attribute_value_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.attribute_name}={self.attribute_value}"

    def get_absolute_url(self) -> str:
        return reverse("attributes:tab", args=[self.customer_id])

    @property
    def etag(self) -> str:
        """A strong HTTP entity tag that changes with every change of this attribute (name, value or time)."""
        state = f"{self.pk}|{self.attribute_name}|{self.attribute_value}|{self.last_modified.isoformat()}"
        return '"' + hashlib.sha256(state.encode()).hexdigest()[:24] + '"'


class AttributeDefinition(models.Model):
    """The registry entry of an attribute name: what it means, what values it takes, who depends on it.

    Names without a definition stay free-form unless settings.ATTRIBUTES_REQUIRE_DEFINITION is on.
    """

    class ValueType(models.TextChoices):
        TEXT = "text", "Text"
        BOOLEAN = "boolean", "Boolean (true/false)"
        INTEGER = "integer", "Integer"
        DECIMAL = "decimal", "Decimal"
        DATE = "date", "Date (YYYY-MM-DD)"
        DATETIME = "datetime", "Date and time (YYYY-MM-DD HH:MM:SS)"
        EMAIL = "email", "Email address"
        URL = "url", "URL"
        CHOICE = "choice", "One of a list of choices"
        REGEX = "regex", "Matches a regular expression"

    name = models.CharField(max_length=NAME_MAX_LENGTH, unique=True, validators=[validate_attribute_name])
    description = models.TextField(blank=True, help_text="What the attribute means and who sets it.")
    value_type = models.CharField(max_length=10, choices=ValueType.choices, default=ValueType.TEXT)
    choices = models.TextField(blank=True, help_text="For “one of a list”: the allowed values, one per line.")
    pattern = models.CharField(
        max_length=200, blank=True, help_text="For “regular expression”: the whole value must match it."
    )
    example = models.CharField(max_length=VALUE_MAX_LENGTH, blank=True)
    dependent_systems = models.CharField(
        max_length=300, blank=True, help_text="Comma-separated systems that read it, e.g. billing, RADIUS."
    )
    protected = models.BooleanField(
        default=False, help_text="Deleting it from a customer needs the name typed as confirmation."
    )
    sensitive = models.BooleanField(
        default=False,
        help_text="A secret (an API key…): its values are stored encrypted and shown only to users with "
        "view_sensitive_customer_attribute.",
    )
    created = models.DateTimeField(auto_now_add=True)
    last_modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        default_permissions = ()
        permissions = [
            ("manage_attribute_registry", "Can manage the attribute registry"),
            # Jobs are the app `jobs`'s, but who sees all of them is an attributes decision (settings.JOBS_*).
            ("view_all_jobs", "Can see and cancel every user's background jobs"),
            # Webhooks are the app `webhooks`'s; they publish attribute changes, so the rule is the attributes'.
            ("manage_webhooks", "Can manage webhooks (receive every attribute change)"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from .registry import clean_definition

        clean_definition(self)

    @property
    def systems(self) -> list[str]:
        return [s.strip() for s in self.dependent_systems.split(",") if s.strip()]

    @property
    def choice_list(self) -> list[str]:
        return [c.strip() for c in self.choices.replace(",", "\n").splitlines() if c.strip()]

    def expected_format(self) -> str:
        from .registry import expected_format

        return expected_format(self)


class SensitiveReveal(models.Model):
    """One read of a sensitive value: a Reveal click, an API response that carried it, an export that included it."""

    class Channel(models.TextChoices):
        UI = "ui", "Attributes tab"
        API = "api", "API"
        EXPORT = "export", "CSV export"
        ADMIN = "admin", "Django admin"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, help_text="At the time of the read.")
    token_name = models.CharField(max_length=100, blank=True, help_text="API token used, if any.")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    customer_id = models.BigIntegerField(help_text="Plain id: the log outlives the customer.")
    attribute_name = models.CharField(max_length=NAME_MAX_LENGTH)
    channel = models.CharField(max_length=10, choices=Channel.choices)

    class Meta:
        ordering = ["-at", "-id"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.username} read {self.attribute_name} of customer {self.customer_id} ({self.channel})"


class NameReservation(models.Model):
    """An attribute name a running rename job holds: while it exists, writes of the name are refused (409).

    The job inserts it before its first chunk and deletes it when it ends (success, refusal or cancel); a crashed
    job keeps it until its resumed run ends. See `services.common.check_names_free` for the protocol.
    """

    name = models.CharField(max_length=NAME_MAX_LENGTH, primary_key=True)
    job = models.ForeignKey("jobs.Job", on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.name} (job {self.job_id})"


class AttributeNameUsage(models.Model):
    """The usage audit's figures of one attribute name in use, as of `refreshed_at`.

    Kept by the refresh job (`services.usage`), never by the write path: writes stay as cheap as before and no
    row is locked by every write to a popular name. Registry facts (defined, description) are read live.
    """

    name = models.CharField(max_length=NAME_MAX_LENGTH, primary_key=True)
    customers = models.BigIntegerField(help_text="Customers that have the name (one row per customer and name).")
    distinct_values = models.BigIntegerField()
    top_values = models.JSONField(default=list, help_text="[[value, customers], …], most common first.")
    last_modified = models.DateTimeField(help_text="Latest change of any of its current values.")
    refreshed_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.name} ({self.customers})"


class UsageState(models.Model):
    """The one row (pk 1) saying how fresh the usage figures are: the last refresh, its history watermark, and the
    near-duplicate groups it computed (so no request compares names)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    refreshed_at = models.DateTimeField(null=True, blank=True, help_text="Figures include every write before this.")
    near_duplicates = models.JSONField(default=list)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"usage as of {self.refreshed_at}"


class UsageStaleName(models.Model):
    """A name whose figures changed without a history row (a deleted customer takes its history with it)."""

    name = models.CharField(max_length=NAME_MAX_LENGTH, primary_key=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return self.name
