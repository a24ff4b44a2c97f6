from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.messages.views import SuccessMessageMixin
from django.urls import reverse_lazy
from django.views.generic import CreateView, DeleteView, DetailView, ListView, UpdateView

from crm_project.mixins import PermissionRequiredWithReasonMixin
from crm_project.paging import CappedPaginator

from . import extensions
from .filters import CustomerFilterSet
from .forms import CustomerForm
from .models import Customer


class CustomerListView(LoginRequiredMixin, PermissionRequiredWithReasonMixin, ListView):
    """Customer list with search by name or id, a status filter and the filters other apps register, paginated.

    The search form submits every filter under the API's query parameters, so the address bar holds a
    shareable URL; a registered filter (the attribute filter) reads its own and leaves the rest to others.
    """

    permission_required = "customers.view_customer"
    model = Customer
    paginate_by = 25
    paginator_class = CappedPaginator  # page 4000 of a million customers is no longer an OFFSET 100000
    template_name = "customers/customer_list.html"
    own_params = {"q", "status", "page"}

    def get_queryset(self):
        self.filterset = CustomerFilterSet(self.request.GET or None, queryset=super().get_queryset())
        self.filter_states = [
            list_filter.for_page(self.request, ignore=extensions.others_params(list_filter, self.own_params))
            for list_filter in extensions.list_filters()
        ]
        if any(state.errors for state in self.filter_states):
            return Customer.objects.none()  # the error is shown instead of customers the filter did not choose
        queryset = self.filterset.qs
        for state in self.filter_states:
            queryset = state.narrow(queryset)
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context["filter_form"] = self.filterset.form
        context["query_without_page"] = query.urlencode()
        for state in self.filter_states:
            context.update(state.context)
        context["list_filters"] = self.filter_states
        context["filter_blocked_text"] = next((state.blocked_text for state in self.filter_states if state.errors), "")
        context["list_actions"] = extensions.list_templates(extensions.LIST_ACTIONS)
        context["list_tools"] = extensions.list_templates(extensions.LIST_TOOLS)
        return context


class CustomerDetailView(LoginRequiredMixin, PermissionRequiredWithReasonMixin, DetailView):
    """The customer's overview page: the Overview tab, then the tabs other apps register (`extensions`)."""

    permission_required = "customers.view_customer"
    model = Customer
    extra_context = {"active_tab": "overview"}

    def get_template_names(self):
        # The tab loaded in place by htmx gets only the tab area; everything else the full page.
        if self.request.htmx and self.request.htmx.target == "tab-area":
            return ["customers/_overview_tab.html"]
        return ["customers/customer_detail.html"]


class CustomerFormViewMixin(LoginRequiredMixin, PermissionRequiredWithReasonMixin, SuccessMessageMixin):
    """What the New and Edit pages share: the form, its template and a success message naming the customer."""

    model = Customer
    form_class = CustomerForm
    template_name = "customers/customer_form.html"


class CustomerCreateView(CustomerFormViewMixin, CreateView):
    permission_required = "customers.add_customer"
    success_message = "Customer %(customer_name)s created."


class CustomerUpdateView(CustomerFormViewMixin, UpdateView):
    permission_required = "customers.change_customer"
    success_message = "Customer %(customer_name)s updated."


class CustomerDeleteView(LoginRequiredMixin, PermissionRequiredWithReasonMixin, DeleteView):
    permission_required = "customers.delete_customer"
    model = Customer
    template_name = "customers/customer_confirm_delete.html"
    success_url = reverse_lazy("customers:list")

    def form_valid(self, form):
        name = self.object.customer_name
        response = super().form_valid(form)
        messages.success(self.request, f"Customer {name} deleted.")
        return response
