from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = _("Groups")

    def ready(self) -> None:
        from chat.hooks import conversation_rows_decorate
        from groups.receivers import on_conversation_rows_decorate

        conversation_rows_decorate.connect(
            on_conversation_rows_decorate, dispatch_uid="groups.conversation_rows_decorate"
        )
