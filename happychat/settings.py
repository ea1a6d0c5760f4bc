"""HappyChat settings, read from the environment (see .env.example).

Unset means the embedded default: SQLite in WAL mode, the in-memory channel layer and
console e-mail. DATABASE_URL=postgres://… and REDIS_URL=redis://… switch to scale-out.
"""

import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY",
    default="django-insecure-happychat-local-development-key-change-me-in-production",
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# Origins a cookie-authenticated WebSocket may come from, besides the request's own host.
WEBSOCKET_ALLOWED_ORIGINS = env.list("WEBSOCKET_ALLOWED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "corsheaders",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "safety",
    "accounts",
    "chat",
    "friends",
    "groups",
    "robot",
    "moderation",
    "pwa",
    "push",
    "ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "happychat.middleware.ContentSecurityPolicyMiddleware",
    # Before anything that may answer early, so preflights and errors carry the grant too.
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "happychat.urls"
ASGI_APPLICATION = "happychat.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on the busy
        # timeout instead of failing with "database is locked" halfway through.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA busy_timeout=20000;"
            "PRAGMA foreign_keys=ON;"
        ),
    }
    # Keep each thread's connection: reopening per socket frame costs more than the query.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=600)
    # Tests use a file, not shared-cache memory: that locks whole tables at once and ignores
    # the busy timeout, so concurrent-writer tests would fail for the wrong reason.
    DATABASES["default"]["TEST"] = {
        "NAME": env.str(
            "DJANGO_TEST_DB_NAME",
            default=str(Path(tempfile.gettempdir()) / f"happychat-test-{os.getpid()}.sqlite3"),
        )
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Django turns psycopg's prepared statements off (prepare_threshold None), and then even
    # an explicit `prepare=True` is ignored. Django's own cursors bind on the client and never
    # prepare, so a threshold that is never reached prepares only what asks for it: the send
    # path's one statement (chat/services/messages.py), planned once per connection instead of
    # on every send. Behind PgBouncer in transaction mode, use 1.21+ (max_prepared_statements).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 2**31 - 1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer and caches ---------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CHANNEL_LAYERS = {
    "default": (
        {
            # Pub/sub, not the list-based core layer: one PUBLISH per group send and no
            # per-channel queues in Redis. It drops what nobody listens to, which is fine for
            # a wake-up: the database is the truth and `sync` repairs any gap. This subclass
            # rides out a Redis outage instead of failing every socket (docs/faults.md).
            "BACKEND": "chat.redis_layer.ResilientRedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
        if REDIS_URL
        else {"BACKEND": "chat.layers.FastInMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
    )
}
CACHES = {
    # The default cache backs throttles and rate limits, so it must survive a restart and
    # be shared by every process: the database on one machine, Redis on the scale-out path
    # (falling back to each process's memory while Redis is away: docs/faults.md).
    "default": (
        {"BACKEND": "happychat.cache.ResilientRedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "happychat_cache",
        }
    ),
}

# --- Auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = True
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = env.int("ACCOUNT_ACTIVATION_DAYS", default=3)
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[HappyChat] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env.str("ACCOUNT_DEFAULT_HTTP_PROTOCOL", default="http")
# Registration, passwords and logouts go through accounts.services (one mechanism for
# browser and REST); the signup form adds the optional nickname.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "login": env.str("THROTTLE_LOGIN", default="10/min"),
        "register": env.str("THROTTLE_REGISTER", default="20/hour"),
        "resend": env.str("THROTTLE_RESEND", default="5/hour"),
        "upload": env.str("THROTTLE_UPLOAD", default="60/min"),
        "wechat": env.str("THROTTLE_WECHAT", default="30/min"),
        "export": env.str("THROTTLE_EXPORT", default="3/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "EXCEPTION_HANDLER": "happychat.api.exception_handler",
    # Throttles key on REMOTE_ADDR unless told how many proxies to peel off X-Forwarded-For
    # (trusting that header by default would let anyone dodge the login throttle).
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=0),
}
# knox's token model is swappable; naming it lets other apps' migrations point at it.
KNOX_TOKEN_MODEL = "knox.AuthToken"  # noqa: S105 (a model name, not a secret)
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": None,
    "TOKEN_LIMIT_PER_USER": 50,
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "HappyChat API",
    "DESCRIPTION": "REST half of the HappyChat wire contract; the WebSocket half is /ws/chat/.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "MessageKindEnum": "chat.models.Message.Kind",
        "SendKindEnum": [("text", "text"), ("image", "image"), ("file", "file")],
        "AttachmentKindEnum": [("image", "image"), ("file", "file")],
    },
    # PATCH bodies document their real required fields (the views are not partial updates).
    "COMPONENT_SPLIT_PATCH": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "happychat.schema.add_error_responses",
    ],
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1}
    },
}

# --- E-mail ---------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="HappyChat <noreply@happychat.local>")

# --- i18n -----------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where uploaded files live: "local" (MEDIA_ROOT on this machine) or "s3" (an
# S3-compatible bucket shared by every machine; docs/deploy.md). Every read, write and
# delete goes through Django's storage API, so the rest of the code is the same for both.
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="local")
MEDIA_STORAGE_BACKENDS = {
    "local": "django.core.files.storage.FileSystemStorage",
    "s3": "happychat.storage.PrivateS3Storage",
}
if MEDIA_STORAGE not in MEDIA_STORAGE_BACKENDS:
    raise ImproperlyConfigured(f"MEDIA_STORAGE must be 'local' or 's3', not {MEDIA_STORAGE!r}")
STORAGES = {
    "default": {"BACKEND": MEDIA_STORAGE_BACKENDS[MEDIA_STORAGE]},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# django-storages' own names. The bucket stays private: files are read through presigned
# URLs handed out after the access check (or proxied, MEDIA_S3_REDIRECT=False).
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
if MEDIA_STORAGE == "s3" and not AWS_STORAGE_BUCKET_NAME:
    raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME")
# Path-style addressing for self-hosted endpoints (MinIO, Ceph, moto), AWS's own otherwise.
MEDIA_S3_ADDRESSING_STYLE = env.str(
    "MEDIA_S3_ADDRESSING_STYLE", default="path" if AWS_S3_ENDPOINT_URL else "auto"
)
MEDIA_S3_CONNECT_TIMEOUT = env.float("MEDIA_S3_CONNECT_TIMEOUT", default=3.0)
MEDIA_S3_READ_TIMEOUT = env.float("MEDIA_S3_READ_TIMEOUT", default=20.0)
# Where browsers fetch signed URLs from (for the CSP's img-src); derived when unset.
MEDIA_S3_ORIGIN = env.str("MEDIA_S3_ORIGIN", default="") or (
    "{0.scheme}://{0.netloc}".format(urlsplit(AWS_S3_ENDPOINT_URL))
    if AWS_S3_ENDPOINT_URL
    else "https://*.amazonaws.com"
)
WHITENOISE_USE_FINDERS = True
# Only avatars are served under MEDIA_URL; chat uploads only through access-checked views.
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
# How long browsers may keep a private file (an upload) and a public one (an avatar).
MEDIA_PRIVATE_CACHE_SECONDS = env.int("MEDIA_PRIVATE_CACHE_SECONDS", default=3600)
MEDIA_PUBLIC_CACHE_SECONDS = env.int("MEDIA_PUBLIC_CACHE_SECONDS", default=86400)
# Behind nginx: answer with `X-Accel-Redirect: <this prefix>/<stored name>` and let an
# `internal` nginx location serve the bytes from MEDIA_ROOT (docs/deploy.md).
MEDIA_ACCEL_REDIRECT = env.str("MEDIA_ACCEL_REDIRECT", default="")
# Object storage: redirect to a signed URL valid this long (False: proxy the bytes instead).
MEDIA_SIGNED_URL_SECONDS = env.int("MEDIA_SIGNED_URL_SECONDS", default=300)
MEDIA_S3_REDIRECT = env.bool("MEDIA_S3_REDIRECT", default=True)
# Uploads never sent in a message, and stored files no row refers to, are removed by
# `manage.py media_cleanup` once they are this old.
MEDIA_ORPHAN_HOURS = env.int("MEDIA_ORPHAN_HOURS", default=24)
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
UPLOAD_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_MAX_PIXELS = 40_000_000
# Image decodes at once per process (others wait UPLOAD_DECODE_WAIT_SECONDS, then `busy`),
# and the memory one decode may take, estimated from the image's header before decoding.
UPLOAD_DECODE_CONCURRENCY = env.int("UPLOAD_DECODE_CONCURRENCY", default=2)
UPLOAD_DECODE_WAIT_SECONDS = env.float("UPLOAD_DECODE_WAIT_SECONDS", default=30.0)
UPLOAD_DECODE_MAX_BYTES = env.int("UPLOAD_DECODE_MAX_BYTES", default=400 * 2**20)
# Allocations from this size up use mmap (returned to the system when freed); 0: glibc's.
UPLOAD_MMAP_THRESHOLD = env.int("UPLOAD_MMAP_THRESHOLD", default=1 * 2**20)
AVATAR_SIZE = 256

# --- Operations (ops/) -----------------------------------------------------------------
# Where `manage.py backup` writes its archives unless told otherwise.
BACKUP_DIR = env.path("BACKUP_DIR", default=BASE_DIR / "var" / "backups")

# --- Chat -----------------------------------------------------------------------------
CHAT_HEARTBEAT_SECONDS = env.int("CHAT_HEARTBEAT_SECONDS", default=25)
CHAT_AUTH_TIMEOUT_SECONDS = 10
CHAT_MAX_FRAME_BYTES = 64 * 1024
CHAT_MAX_BODY_CHARS = 5000
CHAT_SYNC_DEFAULT_LIMIT = 50
CHAT_SYNC_MAX_LIMIT = 200
# Per-socket send rate (messages a second, and burst) before `rate_limited`.
CHAT_SEND_RATE = env.float("CHAT_SEND_RATE", default=20.0)
CHAT_SEND_BURST = env.float("CHAT_SEND_BURST", default=60.0)
# Frames a socket may have read a second (and burst), whatever they are: past it the
# server stops reading the socket until the budget refills (daphne only; chat/flow.py).
CHAT_SOCKET_FRAME_RATE = env.float("CHAT_SOCKET_FRAME_RATE", default=200.0)
CHAT_SOCKET_FRAME_BURST = env.float("CHAT_SOCKET_FRAME_BURST", default=200.0)
# After a socket is closed for abuse (4029), the same user's new sockets on that process are
# closed at once for this many seconds.
CHAT_ABUSE_COOLDOWN_SECONDS = env.float("CHAT_ABUSE_COOLDOWN_SECONDS", default=10.0)
# Per-socket `sync` rate: over it a sync is answered late, not refused.
CHAT_SYNC_RATE = env.float("CHAT_SYNC_RATE", default=5.0)
CHAT_SYNC_BURST = env.float("CHAT_SYNC_BURST", default=20.0)
# Per-socket `read` rate: over it only the furthest seq per conversation is kept, stored later.
CHAT_READ_RATE = env.float("CHAT_READ_RATE", default=10.0)
CHAT_READ_BURST = env.float("CHAT_READ_BURST", default=30.0)
# Socket writes (sends, reads) waiting in one process before new ones get `busy`.
CHAT_MAX_PENDING_WRITES = env.int("CHAT_MAX_PENDING_WRITES", default=2000)
# Threads committing socket writes on PostgreSQL (SQLite always uses one), each serving one
# lane of conversations (chat/writer.py). One thread sends what is queued as one pipelined
# batch, which keeps up with what the process's event loop can take; a second one competed
# with it for the GIL and spread latencies (scale-out pairs p99 108-118 ms with two, 87-99
# with one, at the same throughput: bench/README.md). Scale out with processes.
CHAT_DB_WRITERS = env.int("CHAT_DB_WRITERS", default=1)
# How long after sending a sender may recall (seconds), and edit a text message.
CHAT_RECALL_SECONDS = env.int("CHAT_RECALL_SECONDS", default=120)
CHAT_EDIT_SECONDS = env.int("CHAT_EDIT_SECONDS", default=86400)
# Documents sent as `file` messages (PDF, Office, text, archives).
CHAT_FILE_MAX_BYTES = env.int("CHAT_FILE_MAX_BYTES", default=20 * 1024 * 1024)
# Messages one forward may carry.
CHAT_FORWARD_MAX = 50
ROBOT_USERNAME = "robot"

# --- Robot (robot/) --------------------------------------------------------------------
# "offline" (commands, FAQ, small talk; no network), "webhook", "openai", or a dotted path.
ROBOT_BACKEND = env.str("ROBOT_BACKEND", default="offline")
ROBOT_WEBHOOK_URL = env.str("ROBOT_WEBHOOK_URL", default="")
ROBOT_OPENAI_URL = env.str("ROBOT_OPENAI_URL", default="")
ROBOT_OPENAI_KEY = env.str("ROBOT_OPENAI_KEY", default="")
ROBOT_OPENAI_MODEL = env.str("ROBOT_OPENAI_MODEL", default="gpt-4o-mini")
ROBOT_BACKEND_TIMEOUT = env.float("ROBOT_BACKEND_TIMEOUT", default=1.0)
# The whole chain (smart backend, then offline fallback) must answer within this many seconds.
ROBOT_REPLY_DEADLINE = env.float("ROBOT_REPLY_DEADLINE", default=1.2)
ROBOT_BREAKER_FAILURES = env.int("ROBOT_BREAKER_FAILURES", default=3)
ROBOT_BREAKER_SECONDS = env.float("ROBOT_BREAKER_SECONDS", default=30.0)
ROBOT_MEMORY_TURNS = env.int("ROBOT_MEMORY_TURNS", default=10)

# --- Content safety (safety/) ----------------------------------------------------------
# How often a process rereads the sensitive-word version (edits here apply at once).
SAFETY_RECHECK_SECONDS = env.float("SAFETY_RECHECK_SECONDS", default=2.0)
SAFETY_CHECKERS = env.list("SAFETY_CHECKERS", default=["safety.checkers.sensitive_words"])
# Add "safety.checkers.http_moderation" to SAFETY_CHECKERS to use an external service.
SAFETY_MODERATION_URL = env.str("SAFETY_MODERATION_URL", default="")
SAFETY_MODERATION_TIMEOUT = env.float("SAFETY_MODERATION_TIMEOUT", default=1.0)
SAFETY_FAIL_CLOSED = env.bool("SAFETY_FAIL_CLOSED", default=False)

# --- Web Push (push/) -----------------------------------------------------------------
# VAPID keys identify this server to the browsers' push services: generate them once with
# `manage.py webpush_keys` and keep them (a new key pair invalidates every subscription).
# Unset: no pushes, and the app does not offer them.
WEBPUSH_VAPID_PUBLIC_KEY = env.str("WEBPUSH_VAPID_PUBLIC_KEY", default="")
WEBPUSH_VAPID_PRIVATE_KEY = env.str("WEBPUSH_VAPID_PRIVATE_KEY", default="")
# A contact for push services' operators: mailto:ops@example.com or https://example.com.
WEBPUSH_SUBJECT = env.str("WEBPUSH_SUBJECT", default="mailto:admin@happychat.local")
# What a message push shows: "text" (sender + preview), "sender" (who, not what), "none".
WEBPUSH_PREVIEW = env.str("WEBPUSH_PREVIEW", default="text")
# Seconds a push service keeps an undelivered push (device off) before dropping it.
WEBPUSH_TTL = env.int("WEBPUSH_TTL", default=24 * 3600)
WEBPUSH_TIMEOUT = env.float("WEBPUSH_TIMEOUT", default=5.0)
WEBPUSH_WORKERS = env.int("WEBPUSH_WORKERS", default=2)
# Pushes waiting for a worker beyond this many are dropped (and logged), never blocking sends.
WEBPUSH_QUEUE_LIMIT = env.int("WEBPUSH_QUEUE_LIMIT", default=1000)
# Hosts a subscription's endpoint may point at (".example.com" = any subdomain): the
# browsers' push services. The server posts to these URLs, so nothing else is accepted.
WEBPUSH_ENDPOINT_HOSTS = env.list(
    "WEBPUSH_ENDPOINT_HOSTS",
    default=[
        "fcm.googleapis.com",
        "android.googleapis.com",
        "updates.push.services.mozilla.com",
        ".push.apple.com",
        ".notify.windows.com",
    ],
)

# --- WeChat (mini-program log-in, optional text check) --------------------------------
# The mini-program's AppID and AppSecret (mp.weixin.qq.com → Development → Settings).
WECHAT_APP_ID = env.str("WECHAT_APP_ID", default="")
WECHAT_APP_SECRET = env.str("WECHAT_APP_SECRET", default="")
# Where WeChat's server API is; tests and an outbound proxy point it elsewhere.
WECHAT_API_BASE = env.str("WECHAT_API_BASE", default="https://api.weixin.qq.com")
# Seconds to wait for WeChat (capped at 5).
WECHAT_TIMEOUT = env.float("WECHAT_TIMEOUT", default=5.0)
# Add "safety.checkers.wechat_text_check" to SAFETY_CHECKERS to run WeChat's msgSecCheck;
# it waits at most this long per text, then fails open or closed (SAFETY_FAIL_CLOSED).
SAFETY_WECHAT_TIMEOUT = env.float("SAFETY_WECHAT_TIMEOUT", default=1.0)

# --- CORS (packaged apps that serve their own pages, e.g. an Android webview) ----------
# Origins allowed to call the REST API with a token, comma-separated, e.g.
# "https://appassets.androidplatform.net,http://localhost". Nobody else gets a CORS grant.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/(api|media)/.*$"
# Tokens, not cookies, cross origins: the session cookie stays same-site.
CORS_ALLOW_CREDENTIALS = False

# --- Security (production values come from the environment) --------------------------
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_BEHIND_PROXY", default=False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Every page: no inline script or style, nothing from other origins, never framed. The
# middleware adds the page's own ws:// or wss:// origin to connect-src.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if MEDIA_STORAGE == "s3" and MEDIA_S3_REDIRECT:
    # Images are fetched from the bucket through the signed URLs our views redirect to.
    for _directive in ("img-src", "media-src", "connect-src"):
        CONTENT_SECURITY_POLICY["DIRECTIVES"][_directive].append(MEDIA_S3_ORIGIN)
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    "loggers": {
        "happychat": {"level": env.str("LOG_LEVEL", default="INFO")},
        # httpx logs every request URL at INFO and httpcore traces at DEBUG: WeChat's API
        # takes the AppSecret and login codes in the query string, which must not be logged.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
