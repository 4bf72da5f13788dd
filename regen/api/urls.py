"""The RAIL-compatible endpoints and our own, under one flat list."""

from django.urls import path

from regen.api import evalguard, views

urlpatterns = [
    path("health", views.HealthView.as_view(), name="health"),
    path("railscore/v1/eval", views.EvalView.as_view(), name="eval"),
    path("railscore/v1/safe-regenerate", views.SafeRegenerateView.as_view(), name="safe-regenerate"),
    path("railscore/v1/safe-regenerate/continue", views.ContinueView.as_view(), name="safe-regenerate-continue"),
    path("railscore/v1/config", views.ConfigView.as_view(), name="config"),
    path("railscore/v1/capabilities", views.CapabilitiesView.as_view(), name="capabilities"),
    path("railscore/v1/dimensions", views.DimensionsView.as_view(), name="dimensions"),
    path("railscore/v1/runs", views.RunListView.as_view(), name="runs"),
    path("railscore/v1/runs/<str:run_id>", views.RunDetailView.as_view(), name="run-detail"),
    path("railscore/v1/jobs/<str:run_id>", views.JobView.as_view(), name="job"),
    path("railscore/v1/review-items", views.ReviewListView.as_view(), name="review-items"),
    path("railscore/v1/review-items/<str:item_id>", views.ReviewDetailView.as_view(), name="review-item"),
    path("railscore/v1/review-items/<str:item_id>/decision", views.ReviewDecisionView.as_view(), name="review-decision"),
    path("api/v1/evals/safe-regenerate", evalguard.EvalGuardSafeRegenerateView.as_view(), name="evalguard-safe-regenerate"),
]
