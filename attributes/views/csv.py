"""CSV in the web UI: export (one customer's attributes, or those of a filtered customer list) and import.

Exports stream through `csvio.csv_response`. Import is two steps: upload -> dry-run preview (nothing
written, answered in the request) -> "Import now", which starts an import job with the same file
(`services.import_start`) and redirects to the job's page, where its progress and result show. The uploaded
text waits in the user's session between the two steps under a random key, and leaves it once the job holds
it; larger files go through `manage.py import_attributes`.
"""

import secrets

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import TemplateView

from customers.filters import CustomerFilterSet
from customers.models import Customer

from .. import csvio, filters, services
from ..forms import ImportForm
from ..models import Attribute
from ..permissions import Action, AttributePermissionMixin

SESSION_PREFIX = "attribute_import:"
REJECTS_SHOWN = 500
LIST_PARAMS = {"q", "status", "page"}  # the customer list page's own parameters


class CustomerAttributesExportView(AttributePermissionMixin, View):
    """One customer's attributes as CSV."""

    action = Action.VIEW

    def get(self, request, customer_id: int):
        customer = get_object_or_404(Customer, pk=customer_id)
        return csvio.csv_response(
            customer.attributes.all(), f"customer-{customer.pk}-attributes.csv", user=self.request.user
        )


class FilteredAttributesExportView(AttributePermissionMixin, View):
    """The attributes of the customers the list shows for the same query string (every attribute without one)."""

    action = Action.VIEW

    def get(self, request):
        params = filters.form_query(request.GET)  # the list page's query, as its export link carries it
        filtered = any(params.get(key) for key in params if key != "page")
        customers = CustomerFilterSet(params, queryset=Customer.objects.all()).qs
        try:
            attributes = filters.exported_attributes(
                params, customers=customers, extra_params=LIST_PARAMS, attributes=Attribute.objects.all()
            )
        except ValidationError as error:
            return HttpResponse(" ".join(error.messages), status=400, content_type="text/plain; charset=utf-8")
        filename = "customer-list-attributes.csv" if filtered else "attributes.csv"
        return csvio.csv_response(attributes, filename, user=self.request.user)


class AttributeImportView(AttributePermissionMixin, TemplateView):
    """Upload a CSV and preview the import (POST with a file), then apply it (POST with the preview's token)."""

    action = (Action.CREATE, Action.UPDATE)  # an import creates and updates
    shows_customers = False  # its report names rows by customer id only
    template_name = "attributes/import.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", ImportForm())
        kwargs.setdefault("rejects_shown", REJECTS_SHOWN)
        if report := kwargs.get("report"):
            kwargs["counts"] = [
                ("Create", "created", report.created),
                ("Update", "updated", report.updated),
                ("Unchanged", "unchanged", report.unchanged),
                ("Rejected", "rejected", len(report.rejected)),
            ]
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        if "token" in request.POST:
            return self.confirm(request.POST["token"])
        return self.preview(ImportForm(request.POST, request.FILES))

    def preview(self, form: ImportForm):
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        filename = form.files["file"].name
        try:
            report = csvio.run_import(form.cleaned_data["file"], actor=self.request.user, dry_run=True)
        except csvio.CsvFormatError as error:
            form.add_error("file", str(error))
            return self.render_to_response(self.get_context_data(form=form))
        token = None
        if not report.rejected and report.total:
            token = self.keep(form.cleaned_data["file"], filename)
        return self.render_to_response(self.get_context_data(report=report, filename=filename, token=token))

    def confirm(self, token: str):
        session = self.request.session
        pending = session.get(SESSION_PREFIX + token)
        if pending is None:
            messages.error(self.request, "That upload is no longer waiting to be imported. Upload the file again.")
            return redirect("attributes:import")
        try:
            job = services.import_start(text=pending["text"], actor=self.request.user, filename=pending["filename"])
        except csvio.CsvFormatError as error:  # cannot happen for a previewed file, but say so if it does
            messages.error(self.request, str(error))
            return redirect("attributes:import")
        del session[SESSION_PREFIX + token]  # the job holds the text now
        return redirect("jobs:detail", job.pk)

    def keep(self, text: str, filename: str) -> str:
        """Keep the previewed file in the session until "Import now"; only the latest upload waits."""
        session = self.request.session
        for key in [key for key in session.keys() if key.startswith(SESSION_PREFIX)]:
            del session[key]
        token = secrets.token_urlsafe(16)
        session[SESSION_PREFIX + token] = {"text": text, "filename": filename}
        return token
