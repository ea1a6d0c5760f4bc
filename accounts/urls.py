from django.urls import path

from accounts import views

urlpatterns = [
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path(
        "accounts/activation/resend/",
        views.ActivationResendView.as_view(),
        name="activation_resend",
    ),
]
