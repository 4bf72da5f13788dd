"""Dashboard pages of the billing app: API keys, credits, projects."""

from django.urls import path

from billing import pages, pages_members, pages_provider_keys

urlpatterns = [
    path("keys/", pages.keys_page, name="keys"),
    path("keys/<int:pk>/revoke/", pages.key_revoke, name="key-revoke"),
    path("credits/", pages.credits_page, name="credits"),
    path("projects/", pages.projects_page, name="projects"),
    path("projects/<int:pk>/", pages.project_edit, name="project-edit"),
    path("members/", pages_members.members_page, name="members"),
    path("provider-keys/", pages_provider_keys.provider_keys_page, name="provider-keys"),
]
