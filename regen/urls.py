"""Dashboard pages of the regen app: playground, runs, review queue."""

urlpatterns: list = []
