import hashlib

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer

from .validators import NAME_MAX_LENGTH, VALUE_MAX_LENGTH, validate_attribute_name, validate_attribute_value


class Attribute(models.Model):
    """A free-form key/value pair on a customer: one value per name per customer, values of 1-150 characters.

    Write only through `attributes.services`: it validates, checks permissions and is safe under concurrency.
    """

    attribute_id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="attributes")
    attribute_name = models.CharField(
        "attribute name", max_length=NAME_MAX_LENGTH, validators=[validate_attribute_name]
    )
    attribute_value = models.CharField(
        "attribute value", max_length=VALUE_MAX_LENGTH, validators=[validate_attribute_value]
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    last_modified = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["attribute_name"]
        default_permissions = ()
        permissions = [
            ("view_customer_attribute", "Can view customer attributes"),
            ("create_customer_attribute", "Can create customer attributes"),
            ("update_customer_attribute", "Can update customer attributes"),
            ("delete_customer_attribute", "Can delete customer attributes"),
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
        indexes = [models.Index(fields=["attribute_name", "attribute_value"], name="attribute_name_value_idx")]

    def __str__(self) -> str:
        return f"{self.attribute_name}={self.attribute_value}"

    def get_absolute_url(self) -> str:
        return reverse("attributes:tab", args=[self.customer_id])

    @property
    def etag(self) -> str:
        """A strong HTTP entity tag that changes with every change of this attribute (name, value or time)."""
        state = f"{self.pk}|{self.attribute_name}|{self.attribute_value}|{self.last_modified.isoformat()}"
        return '"' + hashlib.sha256(state.encode()).hexdigest()[:24] + '"'
