from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = _("Groups")

    def ready(self) -> None:
        from chat.hooks import (
            conversation_rows_decorate,
            mention_all_permitted_signal,
            recall_permitted_signal,
        )
        from groups.receivers import (
            on_conversation_rows_decorate,
            on_mention_all_permitted,
            on_recall_permitted,
        )

        conversation_rows_decorate.connect(
            on_conversation_rows_decorate, dispatch_uid="groups.conversation_rows_decorate"
        )
        mention_all_permitted_signal.connect(
            on_mention_all_permitted, dispatch_uid="groups.mention_all_permitted"
        )
        recall_permitted_signal.connect(on_recall_permitted, dispatch_uid="groups.recall_permitted")
