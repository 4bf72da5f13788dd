"""Dashboard pages of the review queue (included from ``railsite/urls.py``)."""

from django.urls import path

from regen.pages import reviews

urlpatterns = [
    path("review/", reviews.review_queue, name="review-queue"),
    path("review/start/", reviews.review_start, name="review-start"),
    path("review/<uuid:item_id>/", reviews.review_detail, name="review-detail"),
    path("review/<uuid:item_id>/decide/", reviews.review_decide, name="review-decide"),
    path("review/<uuid:item_id>/assign/", reviews.review_assign, name="review-assign"),
]
