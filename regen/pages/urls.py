"""Dashboard pages of the regen app: playground, runs and the review queue."""

from django.urls import path

from regen.pages import comparisons, playground, prompts, reviews, runs, whatif

urlpatterns = [
    path("playground/", playground.playground, name="playground"),
    path("runs/", runs.run_list, name="runs"),
    path("playground/estimate/", playground.estimate, name="playground-estimate"),
    path("runs/<uuid:run_id>/", runs.run_detail, name="run-detail"),
    path("runs/<uuid:run_id>/cancel/", runs.run_cancel, name="run-cancel"),
    path("projects/<int:pk>/prompts/", prompts.prompt_templates_page, name="project-prompts"),
    path(
        "projects/<int:pk>/prompts/rollback/",
        prompts.prompt_template_rollback,
        name="project-prompt-rollback",
    ),
    path("what-if/", whatif.what_if_page, name="what-if"),
    path("what-if/apply/", whatif.what_if_apply, name="what-if-apply"),
    path("ab/", comparisons.comparisons_page, name="comparisons"),
    path("ab/<uuid:comparison_id>/", comparisons.comparison_page, name="comparison"),
    path("review/", reviews.review_queue, name="review-queue"),
    path("review/start/", reviews.review_start, name="review-start"),
    path("review/<uuid:item_id>/", reviews.review_detail, name="review-detail"),
    path("review/<uuid:item_id>/decide/", reviews.review_decide, name="review-decide"),
    path("review/<uuid:item_id>/assign/", reviews.review_assign, name="review-assign"),
]
