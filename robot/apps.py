from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RobotConfig(AppConfig):
    name = "robot"
    verbose_name = _("Robot")

    def ready(self) -> None:
        from accounts.signals import user_registered
        from chat.hooks import message_committed
        from robot.receivers import on_message_committed, on_user_registered

        user_registered.connect(on_user_registered, dispatch_uid="robot.user_registered")
        message_committed.connect(on_message_committed, dispatch_uid="robot.message_committed")
