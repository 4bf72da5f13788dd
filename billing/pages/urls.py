"""Dashboard pages of the billing app: API keys, credits, projects, members, provider keys."""

from django.urls import path

from billing.pages import credits, keys, members, projects, provider_keys

urlpatterns = [
    path("keys/", keys.keys_page, name="keys"),
    path("keys/<int:pk>/revoke/", keys.key_revoke, name="key-revoke"),
    path("keys/<int:pk>/budget/", keys.key_budget, name="key-budget"),
    path("credits/", credits.credits_page, name="credits"),
    path("projects/", projects.projects_page, name="projects"),
    path("projects/<int:pk>/", projects.project_edit, name="project-edit"),
    path("members/", members.members_page, name="members"),
    path("provider-keys/", provider_keys.provider_keys_page, name="provider-keys"),
]
