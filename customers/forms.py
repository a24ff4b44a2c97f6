from django import forms

from crm_project.forms import BootstrapFormMixin

from .models import Customer


class CustomerForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["customer_name", "customer_account_type", "customer_status", "email", "phone", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}
