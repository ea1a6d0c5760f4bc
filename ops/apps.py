from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Operations: online backup and restore, and exporting one user's data.

    The top layer: it reads every other app's models and is imported by none of them.
    """

    name = "ops"
    verbose_name = _("Operations")
