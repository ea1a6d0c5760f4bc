"""Our replacements for single allauth pages, mounted under /accounts/ before allauth's own."""

from django.urls import re_path

from accounts import views

urlpatterns = [
    re_path(
        r"^confirm-email/(?P<key>[-:\w]+)/$",
        views.ConfirmEmailView.as_view(),
        name="account_confirm_email",
    ),
]
