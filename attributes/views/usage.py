"""The Usage page (the audit of attribute names) and the Rename page (rename or merge a name across customers).

Rename is two steps, like the CSV import: "Preview" runs the service as a dry run (plain reads, at once) and
shows the counts and conflicts; "Rename" starts the rename job and sends the user to its page, where its
progress and its result show. The admin action, `manage.py rename_attribute` and the API call the same service.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.views.generic import TemplateView

from crm_project.parsing import UNSTORABLE_RE
from customers.models import Customer

from .. import selectors, services
from ..forms import RenameForm
from ..permissions import Action, AttributePermissionMixin, may_see_customers, require_rename_all
from ..validators import NAME_MAX_LENGTH

CONFLICTS_SHOWN = 200
USAGE_PAGE_SIZE = 100


class UsageView(AttributePermissionMixin, TemplateView):
    """The names in use with their figures (100 a page, `?q=` a name prefix); registry gaps; near-duplicate names.

    Figures come from the summary the refresh job keeps, "as of" its last run; the registry columns are live.
    """

    action = Action.VIEW
    shows_customers = False  # names and counts only; its links lead to the customer list, which checks for itself
    template_name = "attributes/usage.html"
    extra_context = {"nav": "usage"}

    def get_context_data(self, **kwargs):
        # PostgreSQL cannot compare text holding NUL (or a lone surrogate), and no name holds one: drop them.
        q = UNSTORABLE_RE.sub("", self.request.GET.get("q", "")).strip()[:NAME_MAX_LENGTH]
        page = Paginator(selectors.usage_names(q), USAGE_PAGE_SIZE).get_page(self.request.GET.get("page"))
        offset = page.start_index() - 1 if page.paginator.count else 0
        report = selectors.usage_report(name_prefix=q, offset=offset, limit=USAGE_PAGE_SIZE)
        return super().get_context_data(
            report=report,
            page_obj=page,
            paginator=page.paginator,
            is_paginated=page.has_other_pages(),
            query_without_page=urlencode({"q": q}) if q else "",
            q=q,
            near_duplicates=selectors.near_duplicate_suggestions(report),
            being_renamed=selectors.names_being_renamed(),
            **kwargs,
        )


class RenameView(AttributePermissionMixin, TemplateView):
    """Rename or merge an attribute name across all customers: preview (dry run), then apply."""

    action = (Action.UPDATE, Action.DELETE)  # a merge deletes too
    shows_customers = False  # its conflict lists name customers only for those who may see them (post below)
    template_name = "attributes/rename.html"
    extra_context = {"nav": "usage"}

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:  # anonymous users go to the login page (the mixin)
            require_rename_all(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        names = selectors.names_with_counts()
        initial = {key: self.request.GET[key] for key in ("old_name", "new_name") if key in self.request.GET}
        kwargs.setdefault("form", RenameForm(initial=initial))
        return super().get_context_data(names_in_use=names, **kwargs)

    def post(self, request, *args, **kwargs):
        form = RenameForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        old, new = form.cleaned_data["old_name"], form.cleaned_data["new_name"]
        prefer = form.cleaned_data["prefer"] or None
        try:
            if "apply" in request.POST:
                job = services.rename_start(
                    old=old,
                    new=new,
                    prefer=prefer,
                    actor=request.user,
                    confirm=request.POST.get("confirm") or None,  # a protected name is typed again (like a delete)
                )
                messages.info(request, f"Renaming {old} to {new} across customers has started.")
                return redirect("jobs:detail", job.pk)
            report = services.attribute_rename_all(old=old, new=new, prefer=prefer, actor=request.user, dry_run=True)
        except ValidationError as error:
            errors = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
            for field, messages_ in errors.items():
                form.add_error({"old": "old_name", "new": "new_name", "prefer": "prefer"}.get(field), messages_)
            return self.render_to_response(self.get_context_data(form=form))
        if not report.renamed and not report.merged and not report.conflicts and not report.invalid:
            messages.info(request, f"No customer has the attribute {old}: there is nothing to rename.")
        conflicts, invalid = report.conflicts[:CONFLICTS_SHOWN], report.invalid[:CONFLICTS_SHOWN]
        customers = {}  # without customers.view_customer the lists show ids only
        if may_see_customers(request.user):
            customers = Customer.objects.in_bulk([row[0] for row in conflicts + invalid])
        context = self.get_context_data(
            form=form,
            report=report,
            old=old,
            new=new,
            protected=getattr(selectors.definitions_for([old]).get(old), "protected", False),
            conflicts=[(customers.get(cid), cid, old_value, new_value) for cid, old_value, new_value in conflicts],
            invalid=[(customers.get(cid), cid, message) for cid, message in invalid],
            shown=CONFLICTS_SHOWN,
            dependents=selectors.dependent_systems(old),
        )
        return self.render_to_response(context)
