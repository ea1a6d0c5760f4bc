from django.urls import path

from push import api

urlpatterns = [
    path("push/config/", api.PushConfigApi.as_view(), name="push-config"),
    path("push/subscriptions/", api.PushSubscriptionListApi.as_view(), name="push-subscriptions"),
    path(
        "push/subscriptions/<id:subscription_id>/",
        api.PushSubscriptionDetailApi.as_view(),
        name="push-subscription-detail",
    ),
]
