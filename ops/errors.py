"""The one error operations raise: management commands turn it into a CommandError."""


class OpsError(Exception):
    """A backup, restore or export that cannot go on; nothing half-done is left behind."""
