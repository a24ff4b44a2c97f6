from django.db import models
from django.urls import reverse


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
    customer_name = models.CharField("name", max_length=200)
    customer_account_type = models.CharField(
        "account type", max_length=20, choices=AccountType.choices, default=AccountType.INDIVIDUAL
    )
    customer_status = models.CharField("status", max_length=20, choices=Status.choices, default=Status.OPEN)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    notes = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    last_modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["customer_name", "customer_id"]
        indexes = [models.Index(fields=["customer_name"], name="customer_name_idx")]

    def __str__(self) -> str:
        return f"{self.customer_name} (#{self.customer_id})"

    def get_absolute_url(self) -> str:
        return reverse("customers:detail", args=[self.customer_id])
