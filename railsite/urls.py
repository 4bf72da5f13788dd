"""The URL map: one flat list of includes."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from railsite import pages

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("billing.urls")),
    path("", include("regen.api.urls")),
    # the dashboard
    path("", pages.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("staff/accounts/", pages.staff_accounts, name="staff-accounts"),
    path("", include("regen.urls")),
    path("", include("regen.urls_reviews")),
    path("", include("billing.urls_pages")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

handler404 = "railsite.views.not_found"
handler500 = "railsite.views.crashed"
