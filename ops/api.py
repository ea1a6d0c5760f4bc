"""REST for operations a user may run on their own account: GET /api/v1/me/export/."""

import tempfile

from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from happychat.api import me
from ops.export import user_export


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
    def get(self, request: Request) -> FileResponse:
        user = me(request)
        # On disk, not in memory: a long history makes a large archive.
        spool = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
        user_export(user=user, out=spool)
        spool.seek(0)
        stamp = timezone.now().strftime("%Y%m%d")
        return FileResponse(
            spool,
            as_attachment=True,
            filename=f"happychat-{user.username}-{stamp}.zip",
            content_type="application/zip",
        )
