"""S3-compatible object storage for media (MEDIA_STORAGE=s3), through django-storages.

The bucket stays private. `url()` answers the stable URL of ours under MEDIA_URL (what
avatars put in payloads; private files are never addressed by their storage name at
all), and `signed_url()` hands out a short-lived presigned URL, which
`happychat.media.stored_file_response` gives only to a caller that passed the access
check. Errors talking to the bucket surface as botocore exceptions, which
`happychat.media.storage_errors()` names, so callers answer a retryable `busy`.
"""

from typing import Any
from urllib.parse import quote

from botocore.config import Config
from django.conf import settings
from storages.backends.s3 import S3Storage


def client_config() -> Config:
    """Fail fast when the bucket is away: a short connect timeout and one retry, so an
    upload answers `busy` in seconds instead of holding a request thread for minutes."""
    return Config(
        connect_timeout=settings.MEDIA_S3_CONNECT_TIMEOUT,
        read_timeout=settings.MEDIA_S3_READ_TIMEOUT,
        retries={"max_attempts": 2, "mode": "standard"},
        signature_version="s3v4",
        s3={"addressing_style": settings.MEDIA_S3_ADDRESSING_STYLE},
    )


class PrivateS3Storage(S3Storage):
    """A private bucket: no public ACL, never overwrite, stable URLs, presigned reads."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("default_acl", None)
        options.setdefault("file_overwrite", False)
        options.setdefault("querystring_auth", True)
        options.setdefault("client_config", client_config())
        super().__init__(**options)

    def url(
        self,
        name: str | None,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        """Our own stable URL for the name (served by access-checked views)."""
        return settings.MEDIA_URL + quote(name or "")

    def signed_url(self, name: str, *, expire: int, download_name: str | None = None) -> str:
        """A presigned GET URL valid `expire` seconds (for a caller already authorized)."""
        parameters: dict[str, Any] = {}
        if download_name:
            ascii_name = download_name.encode("ascii", "ignore").decode().replace('"', "")
            parameters["ResponseContentDisposition"] = (
                f'attachment; filename="{ascii_name or "file"}"; '
                f"filename*=UTF-8''{quote(download_name)}"
            )
        return super().url(name, parameters=parameters, expire=expire)
