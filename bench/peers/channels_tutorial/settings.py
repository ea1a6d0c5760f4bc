"""Settings of the tutorial-style peer: what `startproject` and the tutorial give, trimmed to
what a socket needs (auth and sessions for AuthMiddlewareStack, channels, the chat app)."""

import os

SECRET_KEY = "bench-only-not-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "channels",
    "bench.peers.channels_tutorial",
]
ASGI_APPLICATION = "bench.peers.channels_tutorial.asgi.application"
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BENCH_TUTORIAL_DB", "tutorial.sqlite3"),
        # HappyChat's own SQLite settings (WAL without an fsync per commit, connections kept
        # for 10 minutes), so that the comparison is of the code and not of the disk. With
        # Django's defaults each message opens a connection and closes it (Channels closes
        # old connections around every frame), the close checkpoints the WAL with an fsync,
        # and this peer manages a few dozen messages a second.
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
        "CONN_MAX_AGE": 600,
    }
}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
