from django.urls import path
from django.views.i18n import JavaScriptCatalog

from chat import views

urlpatterns = [
    path("", views.app_shell, name="chat_app"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]
