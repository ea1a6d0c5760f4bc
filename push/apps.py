from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PushConfig(AppConfig):
    name = "push"
    verbose_name = _("Push notifications")

    def ready(self) -> None:
        from chat.hooks import message_committed
        from friends.hooks import friend_request_sent
        from push.receivers import on_friend_request_sent, on_message_committed

        message_committed.connect(on_message_committed, dispatch_uid="push.message_committed")
        friend_request_sent.connect(on_friend_request_sent, dispatch_uid="push.friend_request")
