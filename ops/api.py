"""REST for operations a user may run on their own account: GET /api/v1/me/export/."""

import tempfile
from collections.abc import AsyncIterator
from typing import IO

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from happychat.api import me
from ops.export import user_export

CHUNK_BYTES = 256 * 1024


async def _chunks(spool: IO[bytes]) -> AsyncIterator[bytes]:
    # Read on worker threads, chunk by chunk: under daphne a synchronous iterator would be
    # read whole into memory first, and a disk read would stall the event loop.
    read = sync_to_async(spool.read, thread_sensitive=False)
    try:
        while chunk := await read(CHUNK_BYTES):
            yield chunk
    finally:
        await sync_to_async(spool.close, thread_sensitive=False)()


class MeExportApi(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "export"

    @extend_schema(
        operation_id="me_export",
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="A zip of JSON files and the user's own files; see "
                "docs/deploy.md (Exporting a user's data) for its contents.",
            ),
            429: OpenApiResponse(description="Too many exports; retry later (THROTTLE_EXPORT)."),
        },
        summary="Download everything HappyChat stores about you, as a zip archive.",
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        user = me(request)
        # On disk, not in memory: a long history makes a large archive.
        spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _chunks)
        try:
            user_export(user=user, out=spool)
            size = spool.tell()
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        response = StreamingHttpResponse(_chunks(spool), content_type="application/zip")
        response["Content-Length"] = str(size)
        filename = f"happychat-{user.username}-{timezone.now():%Y%m%d}.zip"
        response["Content-Disposition"] = content_disposition_header(True, filename)
        response["Cache-Control"] = "private, no-store"
        return response
