"""Serve stored files (uploads, avatars, documents) through Django's storage API.

Callers authorize first (e.g. `chat.uploads.access_upload`), then hand the stored name to
`stored_file_response`, which answers in one of three ways, chosen by the deployment:

- a storage that can sign URLs (S3, see `happychat.storage`) gets a redirect to a
  short-lived signed URL, so the bytes come from the bucket (unless MEDIA_S3_REDIRECT is
  off, then they are proxied like a local file);
- with MEDIA_ACCEL_REDIRECT set (nginx), an empty answer whose `X-Accel-Redirect` header
  names an `internal` location that nginx serves from MEDIA_ROOT;
- otherwise the bytes, streamed from the storage in chunks off the event loop.

Every answer carries an ETag (stored names never change content, so the name is enough)
and honours `If-None-Match`, after the caller's access check.
"""

import hashlib
import logging
import mimetypes
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.files.storage import Storage
from django.db import transaction
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotModified,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.utils.http import parse_etags, quote_etag
from django.utils.translation import gettext as _

from happychat.errors import Busy

logger = logging.getLogger("happychat.media")

CHUNK_BYTES = 256 * 1024
# Types a browser may render inline from our origin; anything else is a download.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


class StorageUnavailable(Exception):
    """The storage backend did not answer (disk error, object store down)."""


def storage_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean the storage failed (not "missing"), on every backend."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # the S3 backend is not installed: only the disk can fail
        return (OSError,)
    return (OSError, BotoCoreError, ClientError)


@contextmanager
def storage_writes() -> Iterator[None]:
    """Run storage writes; a storage failure becomes a retryable Busy (nothing was kept)."""
    try:
        yield
    except storage_errors() as exc:
        logger.warning("media storage unavailable: %s", exc)
        raise Busy(
            _("File storage is temporarily unavailable; nothing was stored. Retry."),
            retryable=True,
        ) from exc


def delete_stored_on_commit(storage: Storage, names: Iterable[str]) -> None:
    """Delete stored files once the current transaction commits (at once outside one).

    Files are not transactional: a row is deleted first, its files after. A file that
    cannot be deleted now (storage away) is left for `manage.py media_cleanup`, which
    removes stored files no row refers to.
    """
    pending = [name for name in names if name]

    def delete() -> None:
        for name in pending:
            try:
                storage.delete(name)
            except storage_errors() as exc:
                logger.warning("could not delete %s now (media_cleanup will): %s", name, exc)

    if pending:
        transaction.on_commit(delete)


def etag_for(name: str) -> str:
    """A strong ETag for a stored name: names are random and never reused for other bytes."""
    return quote_etag(hashlib.sha256(name.encode()).hexdigest()[:32])


def stored_file_response(
    request: HttpRequest,
    *,
    storage: Storage,
    name: str,
    content_type: str | None = None,
    private: bool = True,
    download_name: str | None = None,
) -> HttpResponseBase:
    """Answer with the stored file `name` for a request already authorized to read it.

    Raise FileNotFoundError when it is missing and StorageUnavailable when the storage fails.
    """
    etag = etag_for(name)
    cache_control = (
        f"private, max-age={settings.MEDIA_PRIVATE_CACHE_SECONDS}"
        if private
        else f"public, max-age={settings.MEDIA_PUBLIC_CACHE_SECONDS}"
    )
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        not_modified = HttpResponseNotModified()
        not_modified["ETag"] = etag
        not_modified["Cache-Control"] = cache_control
        return not_modified
    media_type = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    signer = getattr(storage, "signed_url", None)
    response: HttpResponseBase
    if signer is not None and settings.MEDIA_S3_REDIRECT:
        expire = settings.MEDIA_SIGNED_URL_SECONDS
        try:
            url = signer(name, expire=expire, download_name=download_name)
        except storage_errors() as exc:
            raise StorageUnavailable(str(exc)) from exc
        response = HttpResponseRedirect(url)
        # The signed URL changes on every answer; let the client reuse it for a while.
        response["Cache-Control"] = f"private, max-age={max(0, expire // 2)}"
        return response
    if settings.MEDIA_ACCEL_REDIRECT and not hasattr(storage, "signed_url"):
        response = HttpResponse(content_type=media_type)
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT.rstrip("/") + "/" + name
    else:
        try:
            handle = storage.open(name, "rb")
            size = handle.size
        except FileNotFoundError:
            raise
        except storage_errors() as exc:
            raise StorageUnavailable(str(exc)) from exc
        response = StreamingHttpResponse(_chunks(handle), content_type=media_type)
        response["Content-Length"] = str(size)
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    response["Content-Disposition"] = _disposition(media_type, download_name)
    # A stored file is never a page: no scripts, no plugins, even if a browser sniffs it.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _disposition(media_type: str, download_name: str | None) -> str:
    kind = "inline" if media_type in INLINE_TYPES else "attachment"
    if not download_name:
        return kind
    from urllib.parse import quote

    ascii_name = download_name.encode("ascii", "ignore").decode().replace('"', "") or "file"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(download_name)}"


async def _chunks(handle: IO[Any]) -> AsyncIterator[bytes]:
    # Reads run on worker threads so a slow disk or bucket never stalls the event loop.
    read = sync_to_async(handle.read, thread_sensitive=False)
    try:
        while chunk := await read(CHUNK_BYTES):
            yield chunk
    finally:
        await sync_to_async(handle.close, thread_sensitive=False)()
