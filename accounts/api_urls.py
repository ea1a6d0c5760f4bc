"""REST routes of the accounts app under /api/v1/."""

from django.urls import path

from accounts import api, api_wechat

urlpatterns = [
    path("auth/register/", api.RegisterApi.as_view(), name="api-register"),
    path("auth/token/", api.TokenApi.as_view(), name="api-token"),
    path(
        "auth/activation/resend/",
        api.ActivationResendApi.as_view(),
        name="api-activation-resend",
    ),
    path("auth/wechat/", api_wechat.WeChatLoginApi.as_view(), name="api-wechat-login"),
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("me/avatar/", api.MeAvatarApi.as_view(), name="api-me-avatar"),
    path("me/wechat/", api_wechat.MeWeChatApi.as_view(), name="api-me-wechat"),
]
