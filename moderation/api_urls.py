from django.urls import path

from moderation.api import MessageReportApi

urlpatterns = [
    path("messages/<id:message_id>/report/", MessageReportApi.as_view(), name="message-report"),
]
