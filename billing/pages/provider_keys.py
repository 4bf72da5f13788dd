"""The provider keys page: an account admin brings the account's own LLM provider keys.

A key is stored encrypted by ``billing.provider_keys`` and never shown again: the page
lists only which providers have one, since when, and what they have spent.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from billing import provider_keys
from billing.dashboard import ADMIN, DashboardRequest, member_required
from railsite.errors import RequestValidationError, ServiceError
from railsite.forms import ServiceErrorsMixin


class ProviderKeyForm(ServiceErrorsMixin, forms.Form):
    provider = forms.ChoiceField()
    key = forms.CharField(
        label="API key",
        max_length=provider_keys.MAX_LENGTH,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, providers: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["provider"]).choices = [(n, n) for n in providers]


def _provider_names() -> list[str]:
    from regen.providers import providers

    try:
        return list(providers())
    except ServiceError:
        return []


@sensitive_post_parameters("key")
@require_http_methods(["GET", "POST"])
@member_required(ADMIN)
def provider_keys_page(request: DashboardRequest) -> HttpResponse:
    """List the account's provider keys; set one, or delete one (POST ``action``)."""
    account = request.seat.account
    names = _provider_names()
    form = ProviderKeyForm(providers=names)
    if request.method == "POST":
        if request.POST.get("action") == "delete":
            provider = request.POST.get("provider", "")
            if provider_keys.delete_key(account=account, provider=provider):
                messages.success(request, f"Deleted the key for {provider}.")
            return redirect("provider-keys")
        form = ProviderKeyForm(request.POST, providers=names)
        if form.is_valid():
            try:
                provider_keys.set_key(
                    account=account,
                    provider=form.cleaned_data["provider"],
                    key=form.cleaned_data["key"],
                    user=request.user,
                )
            except RequestValidationError as error:
                form.add_service_error(error)
            else:
                messages.success(
                    request,
                    f"Saved the key for {form.cleaned_data['provider']}. It is not shown again.",
                )
                return redirect("provider-keys")
    context = {"keys": account.provider_keys.order_by("provider"), "form": form, "providers": names}
    return render(
        request, "billing/provider_keys.html", context, status=400 if form.errors else 200
    )
