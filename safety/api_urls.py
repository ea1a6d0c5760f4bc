from django.urls import path

from safety.api import MessageReportApi

urlpatterns = [
    path("messages/<int:message_id>/report/", MessageReportApi.as_view(), name="message-report"),
]
