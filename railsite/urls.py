"""The URL map: one flat list of includes."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from railsite import pages

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("billing.api.urls")),
    path("", include("regen.api.urls")),
    # the dashboard
    path("", pages.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # password change (logged in) and reset (by e-mail; also the invitation's set-password
    # link): Django's own views with the app's templates
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("staff/accounts/", pages.staff_accounts, name="staff-accounts"),
    path("", include("regen.pages.urls")),
    path("", include("billing.pages.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # the split view serves its start-up script as a file: the pages' CSP allows no inline script
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

handler403 = "railsite.views.forbidden"
handler404 = "railsite.views.not_found"
handler500 = "railsite.views.crashed"
