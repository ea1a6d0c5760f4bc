"""ASGI entry point: Django for HTTP, the chat consumer for /ws/chat/."""

import gc
import os
import sys

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "happychat.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chat import flow  # noqa: E402
from happychat.routing import websocket_urlpatterns  # noqa: E402

# Bound what each daphne socket may hold: backpressure on its reading, slow readers closed
# (chat/flow.py). daphne.server is loaded in every process that sets Django up (daphne is
# an installed app and its AppConfig imports it), tests included, so this patches daphne's
# classes there too; the check only keeps a process that never loaded it from installing
# Twisted's reactor here by importing it.
if "daphne.server" in sys.modules:
    flow.install()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Authentication (session cookie, header or first frame) and the Origin check happen
        # in the consumer, because token clients must not be refused for sending no Origin;
        # it reads the session cookie itself (no Cookie/Session middleware around every socket).
        "websocket": URLRouter(websocket_urlpatterns),
    }
)

if "daphne.cli" in sys.modules:  # served by daphne (not a test, not manage.py)
    # What is loaded by now (Django, the apps, their modules: ~130,000 objects) lives as
    # long as the process. Frozen, the collector no longer walks it: without this, a full
    # collection came every second or so under load and stopped the process for ~70 ms
    # (bench/README.md, 2026-12-01 07:00).
    gc.collect()
    gc.freeze()
