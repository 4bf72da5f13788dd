"""The members page: an account admin invites people, changes roles and removes members.

Every change goes through ``billing.members`` (the last admin can be neither demoted nor
removed; an invitation mails a one-time set-password link).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from billing import members
from billing.dashboard import ADMIN, DashboardRequest, member_required
from billing.models import Membership
from railsite.errors import RequestValidationError, ServiceError


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail", max_length=254)
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.REVIEWER)


@require_http_methods(["GET", "POST"])
@member_required(ADMIN)
def members_page(request: DashboardRequest) -> HttpResponse:
    """List the account's members; invite, change a role, or remove (POST ``action``)."""
    account = request.seat.account
    form = InviteForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "invite":
                form = InviteForm(request.POST)
                if form.is_valid():
                    members.invite(
                        account=account,
                        email=form.cleaned_data["email"],
                        role=form.cleaned_data["role"],
                        invited_by=request.user,
                        base_url=request.build_absolute_uri("/"),
                    )
                    messages.success(
                        request, f"Invited {form.cleaned_data['email']}: they were e-mailed a link."
                    )
                    return redirect("members")
            else:
                membership = get_object_or_404(
                    Membership, pk=request.POST.get("membership"), account=account
                )
                if action == "role":
                    members.change_role(membership=membership, role=request.POST.get("role", ""))
                    messages.success(
                        request, f"{membership.user.get_username()} is now {membership.role}."
                    )
                elif action == "remove":
                    members.remove(membership=membership)
                    messages.success(request, f"Removed {membership.user.get_username()}.")
                return redirect("members")
        except RequestValidationError as error:
            for field, problems in (error.extra.get("details") or {}).items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        except ServiceError as error:
            messages.error(request, error.message)
            return redirect("members")
    context = {
        "members": members.members_of(account),
        "form": form,
        "roles": Membership.Role.choices,
    }
    return render(request, "billing/members.html", context, status=400 if form.errors else 200)
