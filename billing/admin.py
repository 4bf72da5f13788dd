"""Admin for every billing model. Credits change only through ``ledger`` (a form with a
reason); the ledger is read-only; API keys show their prefix, never their hash."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from billing import keys, ledger
from billing.accounts import POLICY_FIELDS
from billing.errors import HoldClosed
from billing.models import (
    Account,
    APIKey,
    CreditAccount,
    Hold,
    LedgerEntry,
    Membership,
    Plan,
    Project,
    ProviderKey,
)
from billing.pages.forms import CreditChangeForm


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "credits_per_month",
        "requests_per_minute",
        "requests_per_day",
        "allowed_modes",
        "max_regenerations",
    ]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class ProjectInline(admin.TabularInline):
    model = Project
    extra = 0
    fields = ["name", "slug", "environment"]
    show_change_link = True


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "plan", "balance", "created_at"]
    list_filter = ["plan"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["plan", "credits"]
    inlines = [MembershipInline, ProjectInline]

    @admin.display(description="credits")
    def balance(self, obj: Account) -> str:
        url = reverse("admin:billing_creditaccount_change_credits", args=[obj.credits.pk])
        return format_html('{} <a href="{}">change…</a>', obj.credits.balance, url)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "account", "role", "created_at"]
    list_filter = ["role", "account"]
    search_fields = ["user__username", "user__email", "account__name", "account__slug"]
    autocomplete_fields = ["user", "account"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "account",
        "environment",
        "default_mode",
        "enforcement",
        "enforcement_mode",
        "locked",
    ]
    list_filter = ["environment", "enforcement", "enforcement_mode", "locked", "account"]
    search_fields = ["name", "slug", "account__name", "account__slug"]
    list_select_related = ["account"]
    autocomplete_fields = ["account"]
    # The policy has one writer, billing.accounts.update_policy (the API's rules for
    # thresholds and weights, the SSRF guard for the webhook): the admin shows it and
    # links to the project's policy page instead of editing the JSON here.
    readonly_fields = ["policy_link", "thresholds", "weights", *POLICY_FIELDS]
    exclude = ["webhook_secret"]  # its account's admins see it on the policy page

    @admin.display(description="Policy")
    def policy_link(self, obj: Project) -> str:
        if obj.pk is None:
            return "Save the project, then edit its policy on the project's policy page."
        url = f"{reverse('project-edit', args=[obj.pk])}?account={obj.account.slug}"
        return format_html('<a href="{}">Edit the policy on the project\'s page</a>', url)


class RevokedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[APIKey]) -> QuerySet[APIKey]:
        if self.value():
            return queryset.filter(revoked_at__isnull=self.value() == "active")
        return queryset


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    """Keys are issued in the dashboard or by ``createapikey``, where the secret is shown once."""

    list_display = ["name", "display_prefix", "project", "created_at", "last_used_at", "revoked_at"]
    list_filter = [RevokedFilter, "project__account"]
    search_fields = ["name", "prefix", "project__slug", "project__account__slug"]
    list_select_related = ["project__account"]
    fields = [
        "name",
        "display_prefix",
        "project",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
        "monthly_credit_budget",
    ]
    readonly_fields = [
        "display_prefix",
        "project",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
        "monthly_credit_budget",  # set on the dashboard's keys page (billing.keys.set_budget)
    ]
    actions = ["revoke"]

    @admin.display(description="key", ordering="prefix")
    def display_prefix(self, obj: APIKey) -> str:
        return f"rail_{obj.prefix}_…"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[APIKey]) -> None:
        for key in queryset.filter(revoked_at__isnull=True):
            keys.revoke_key(key=key)
        self.message_user(request, "The selected keys are revoked.", messages.SUCCESS)


@admin.register(ProviderKey)
class ProviderKeyAdmin(admin.ModelAdmin):
    """Accounts' own provider keys: who set which, and their usage; never the key."""

    list_display = ["account", "provider", "updated_at", "calls", "cost_usd", "last_used_at"]
    list_filter = ["provider"]
    search_fields = ["account__slug", "provider"]
    list_select_related = ["account"]
    readonly_fields = [
        "account",
        "provider",
        "created_by",
        "created_at",
        "updated_at",
        "calls",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "last_used_at",
    ]
    fields = list(readonly_fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # account admins set keys in the dashboard, where they are encrypted

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CreditAccount)
class CreditAccountAdmin(admin.ModelAdmin):
    list_display = ["account", "balance", "held", "available", "updated_at", "change_link"]
    search_fields = ["account__name", "account__slug"]
    list_filter = ["account__plan"]
    list_select_related = ["account"]
    fields = ["account", "balance", "held", "updated_at", "change_link"]
    readonly_fields = ["account", "balance", "held", "updated_at", "change_link"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="")
    def change_link(self, obj: CreditAccount) -> str:
        url = reverse("admin:billing_creditaccount_change_credits", args=[obj.pk])
        return format_html('<a href="{}">Grant or adjust credits…</a>', url)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.change_credits_view)
        extra = [
            path("<int:pk>/change-credits/", view, name="billing_creditaccount_change_credits")
        ]
        return extra + super().get_urls()

    def change_credits_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Show and handle the form that grants or adjusts credits through the ledger."""
        credits = get_object_or_404(CreditAccount.objects.select_related("account"), pk=pk)
        if not self.has_change_permission(request, credits):
            raise PermissionDenied
        form = CreditChangeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            entry = form.apply(account=credits.account, user=request.user)
            if entry is not None:
                self.message_user(
                    request,
                    f"Done: {entry.kind} {entry.amount}; balance now {entry.balance_after}.",
                )
                return HttpResponseRedirect(
                    reverse("admin:billing_creditaccount_change", args=[pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "credits": credits,
            "title": f"Change credits of {credits.account}",
        }
        return TemplateResponse(request, "admin/billing/creditaccount/change_credits.html", context)


@admin.register(Hold)
class HoldAdmin(admin.ModelAdmin):
    list_display = ["reference", "account", "amount", "state", "used", "created_at", "closed_at"]
    list_filter = ["state", "account"]
    search_fields = ["reference", "account__slug", "memo"]
    list_select_related = ["account"]
    actions = ["release_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Release selected open holds", permissions=["view"])
    def release_selected(self, request: HttpRequest, queryset: QuerySet[Hold]) -> None:
        released = 0
        for held in queryset.filter(state=Hold.State.OPEN):
            try:
                ledger.release(hold=held, memo=f"released in the admin by {request.user}")
                released += 1
            except HoldClosed:
                continue
        self.message_user(request, f"Released {released} hold(s).")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Read-only: entries are appended by ``billing.ledger`` and never changed."""

    list_display = [
        "id",
        "created_at",
        "account",
        "kind",
        "amount",
        "held_change",
        "balance_after",
        "held_after",
        "reference",
        "memo",
        "created_by",
    ]
    list_filter = ["kind", "account"]
    search_fields = ["reference", "memo", "account__slug", "account__name"]
    list_select_related = ["account", "created_by"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
