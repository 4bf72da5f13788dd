"""Dashboard pages of the regen app: playground, runs, review queue."""

from django.urls import path

from regen.pages import playground, runs

urlpatterns = [
    path("playground/", playground.playground, name="playground"),
    path("runs/", runs.run_list, name="runs"),
    path("runs/<uuid:run_id>/", runs.run_detail, name="run-detail"),
]
