import re

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from crm_project.parsing import has_visible_character

# Control characters (C0, DEL, C1) and lone surrogates: an ESC or BEL in a name reaches terminals and CSV
# exports raw, and PostgreSQL cannot store NUL or a surrogate at all. Multi-line notes may hold tab and newlines.
_LINE_FORBIDDEN_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_TEXT_FORBIDDEN_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _refuse(pattern: re.Pattern, text: str) -> None:
    if match := pattern.search(text):
        raise ValidationError(
            f"Control characters are not allowed (found U+{ord(match.group()):04X}).", code="control_character"
        )


def validate_single_line(text: str) -> None:
    """One line of text (a name, a phone number): no control characters, tab included."""
    _refuse(_LINE_FORBIDDEN_RE, text)


def validate_multi_line(text: str) -> None:
    """Free text (notes): tab and line breaks allowed, other control characters not."""
    _refuse(_TEXT_FORBIDDEN_RE, text)


def validate_visible(text: str) -> None:
    """A required text needs something to show: a zero-width space or a bidi override alone is not a name."""
    if text and not has_visible_character(text):
        # Not code="required": a ModelForm would swap in its own message for that code, hiding the reason.
        raise ValidationError("This field is required: it has only invisible characters.", code="invisible")


class Customer(models.Model):
    """A customer account: the record that attributes, services and contacts hang off."""

    class AccountType(models.TextChoices):
        INDIVIDUAL = "Individual", "Individual"
        BUSINESS = "Business", "Business"

    class Status(models.TextChoices):
        OPEN = "Open", "Open"
        SUSPENDED = "Suspended", "Suspended"
        CLOSED = "Closed", "Closed"

    customer_id = models.AutoField(primary_key=True)
    customer_name = models.CharField("name", max_length=200, validators=[validate_single_line, validate_visible])
    customer_account_type = models.CharField(
        "account type", max_length=20, choices=AccountType.choices, default=AccountType.INDIVIDUAL
    )
    customer_status = models.CharField("status", max_length=20, choices=Status.choices, default=Status.OPEN)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True, validators=[validate_single_line])
    notes = models.TextField(blank=True, validators=[validate_multi_line])
    created = models.DateTimeField(auto_now_add=True)
    last_modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["customer_name", "customer_id"]
        indexes = [models.Index(fields=["customer_name"], name="customer_name_idx")]

    def __str__(self) -> str:
        return f"{self.customer_name} (#{self.customer_id})"

    def get_absolute_url(self) -> str:
        return reverse("customers:detail", args=[self.customer_id])
