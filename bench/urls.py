"""The app's URLs plus one bare endpoint, for the throughput ratio (bench/api.py only)."""

from django.db import connection
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.authentication import APIKeyMixin
from railsite.urls import urlpatterns as app_urls


class BareView(APIKeyMixin, APIView):
    """Authenticate with the same key and rate limit, write one row, answer."""

    def post(self, request):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_rows (at) VALUES (now()) RETURNING id")
            row_id = cursor.fetchone()[0]
        return Response({"id": row_id})


urlpatterns = [path("bench/bare", BareView.as_view()), *app_urls]
