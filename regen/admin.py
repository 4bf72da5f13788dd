from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from regen.models import Iteration, ReviewItem, Run


class IterationInline(admin.TabularInline):
    model = Iteration
    extra = 0
    can_delete = False
    fields = (
        "index",
        "score",
        "confidence",
        "passed",
        "failing_dimensions",
        "improvement_from_previous",
        "regeneration_model",
        "credits",
    )
    readonly_fields = fields
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "status",
        "account",
        "project",
        "mode",
        "best_score",
        "credits_consumed",
        "created_at",
    )
    list_filter = ("status", "kind", "mode", "domain", "external")
    search_fields = ("id", "session_id", "original_content")
    list_select_related = ("account", "project")
    date_hierarchy = "created_at"
    inlines = [IterationInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Run._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ReviewItem)
class ReviewItemAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "state",
        "reason",
        "account",
        "project",
        "score",
        "assigned_to",
        "created_at",
    )
    list_filter = ("state", "reason")
    search_fields = ("id", "content")
    list_select_related = ("account", "project", "assigned_to")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in ReviewItem._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
