from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.db.models import Q
from django.urls import reverse_lazy
from django.views.generic import CreateView, DeleteView, DetailView, ListView, UpdateView

from .forms import CustomerFilterForm, CustomerForm
from .models import Customer


class CustomerListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """Customer list with search by name or id and a status filter, paginated."""

    permission_required = "customers.view_customer"
    model = Customer
    paginate_by = 25
    template_name = "customers/customer_list.html"

    def get_queryset(self):
        queryset = super().get_queryset()
        self.filter_form = CustomerFilterForm(self.request.GET or None)
        if self.filter_form.is_valid():
            query = self.filter_form.cleaned_data["q"].strip()
            if query:
                condition = Q(customer_name__icontains=query)
                if query.isdigit() and len(query) < 10:
                    condition |= Q(customer_id=int(query))
                queryset = queryset.filter(condition)
            if status := self.filter_form.cleaned_data["status"]:
                queryset = queryset.filter(customer_status=status)
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context["filter_form"] = self.filter_form if self.request.GET else CustomerFilterForm()
        context["query_without_page"] = query.urlencode()
        return context


class CustomerDetailView(LoginRequiredMixin, PermissionRequiredMixin, DetailView):
    """The customer's overview page; its tabs are the Overview fields and the Attributes table."""

    permission_required = "customers.view_customer"
    model = Customer
    extra_context = {"active_tab": "overview"}

    def get_template_names(self):
        # The tab loaded in place by htmx gets only the tab area; everything else the full page.
        if self.request.htmx and self.request.htmx.target == "tab-area":
            return ["customers/_overview_tab.html"]
        return ["customers/customer_detail.html"]


class CustomerCreateView(LoginRequiredMixin, PermissionRequiredMixin, CreateView):
    permission_required = "customers.add_customer"
    model = Customer
    form_class = CustomerForm
    template_name = "customers/customer_form.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, f"Customer {self.object.customer_name} created.")
        return response


class CustomerUpdateView(LoginRequiredMixin, PermissionRequiredMixin, UpdateView):
    permission_required = "customers.change_customer"
    model = Customer
    form_class = CustomerForm
    template_name = "customers/customer_form.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, f"Customer {self.object.customer_name} updated.")
        return response


class CustomerDeleteView(LoginRequiredMixin, PermissionRequiredMixin, DeleteView):
    permission_required = "customers.delete_customer"
    model = Customer
    template_name = "customers/customer_confirm_delete.html"
    success_url = reverse_lazy("customers:list")

    def form_valid(self, form):
        name = self.object.customer_name
        response = super().form_valid(form)
        messages.success(self.request, f"Customer {name} deleted.")
        return response
