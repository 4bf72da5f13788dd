"""The RAIL-compatible endpoints and our own, under one flat list."""

from django.urls import path, re_path

from regen.api import evalguard, views

urlpatterns = [
    path("health", views.HealthView.as_view(), name="api-health"),
    path("railscore/v1/eval", views.EvalView.as_view(), name="api-eval"),
    path(
        "railscore/v1/safe-regenerate",
        views.SafeRegenerateView.as_view(),
        name="api-safe-regenerate",
    ),
    path(
        "railscore/v1/safe-regenerate/continue",
        views.ContinueView.as_view(),
        name="api-safe-regenerate-continue",
    ),
    path("railscore/v1/config", views.ConfigView.as_view(), name="api-config"),
    path("railscore/v1/capabilities", views.CapabilitiesView.as_view(), name="api-capabilities"),
    path("railscore/v1/dimensions", views.DimensionsView.as_view(), name="api-dimensions"),
    path("railscore/v1/runs", views.RunListView.as_view(), name="api-runs"),
    path("railscore/v1/runs/<str:run_id>", views.RunDetailView.as_view(), name="api-run-detail"),
    path("railscore/v1/what-if", views.WhatIfView.as_view(), name="api-what-if"),
    path("railscore/v1/jobs/<str:run_id>", views.JobView.as_view(), name="api-job"),
    path("railscore/v1/comparisons", views.ComparisonView.as_view(), name="api-comparisons"),
    path(
        "railscore/v1/comparisons/<str:comparison_id>",
        views.ComparisonDetailView.as_view(),
        name="api-comparison",
    ),
    path("railscore/v1/review-items", views.ReviewListView.as_view(), name="api-review-items"),
    path(
        "railscore/v1/review-items/<str:item_id>",
        views.ReviewDetailView.as_view(),
        name="api-review-item",
    ),
    path(
        "railscore/v1/review-items/<str:item_id>/decision",
        views.ReviewDecisionView.as_view(),
        name="api-review-decision",
    ),
    path(
        "railscore/v1/agent/prompt-injection",
        views.AgentInjectionView.as_view(),
        name="api-agent-injection",
    ),
    path(
        "railscore/v1/agent/tool-result",
        views.AgentToolResultView.as_view(),
        name="api-agent-tool-result",
    ),
    # the SDKs' other compliance and agent calls: a 501 the SDK raises as NotImplementedByServerError
    re_path(
        r"^railscore/v1/(?P<feature>compliance|agent)(?:/.*)?$",
        views.NotOfferedView.as_view(),
        name="api-not-offered",
    ),
    path(
        "api/v1/evals/safe-regenerate",
        evalguard.EvalGuardSafeRegenerateView.as_view(),
        name="api-evalguard-safe-regenerate",
    ),
]
