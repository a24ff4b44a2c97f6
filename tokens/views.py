from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from crm_project.forms import BootstrapFormMixin

from .models import ApiToken


class TokenForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses this token, e.g. billing sync.")
    expires_days = forms.IntegerField(
        required=False, min_value=1, max_value=3650, label="Expires after (days)", help_text="Empty: never expires."
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def token_list(request):
    """The signed-in user's API tokens: create one (shown once) or revoke one."""
    new_token = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, new_token = ApiToken.issue(
            user=request.user, name=form.cleaned_data["name"], expires_days=form.cleaned_data["expires_days"]
        )
        form = TokenForm()
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "tokens/token_list.html", {"tokens": tokens, "form": form, "new_token": new_token})


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token.delete()
    messages.success(request, f"Token {token.name} revoked.")
    return redirect("tokens:list")
