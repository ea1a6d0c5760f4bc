"""REST routes of the ops app under /api/v1/."""

from django.urls import path

from ops import api

urlpatterns = [
    path("me/export/", api.MeExportApi.as_view(), name="api-me-export"),
]
