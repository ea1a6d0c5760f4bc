"""REST for image uploads: POST /api/v1/uploads/ (multipart `file`), and the stable URLs
that answer with an upload's image or thumbnail to those allowed to see it."""

from collections.abc import Iterable
from typing import cast

from django.conf import settings
from django.http import HttpResponseBase
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.models import User
from chat.models import Upload
from chat.serializers import AttachmentSchema
from chat.uploads import (
    access_upload,
    document_create,
    stored_field_response,
    upload_create,
    upload_payload,
)
from happychat.api import me
from happychat.errors import InvalidAttachment, NotFound

# Room for the multipart envelope around a file that is exactly at the limit.
MULTIPART_OVERHEAD = 64 * 1024


class UploadInput(serializers.Serializer):
    file = serializers.FileField(
        help_text="An image (JPEG, PNG, GIF or WebP, 10 MB at most), or with `kind: file` a "
        "document (PDF, Office, text, archive; CHAT_FILE_MAX_BYTES, 20 MB by default).",
        allow_empty_file=False,
    )
    kind = serializers.ChoiceField(choices=["image", "file"], default="image", required=False)
    name = serializers.CharField(
        required=False,
        max_length=1000,
        help_text="Documents: the name to show and download under (default: the multipart "
        "file name). For clients that cannot name the file part, e.g. `wx.uploadFile`, "
        "which sends its temp file's name; its extension decides the type as usual.",
    )


class UploadErrorSchema(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


class UploadCreateApi(APIView):
    parser_classes = [MultiPartParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "upload"

    @extend_schema(
        request={"multipart/form-data": UploadInput},
        responses={
            201: AttachmentSchema,
            400: OpenApiResponse(
                UploadErrorSchema,
                description="`invalid_attachment`: not an allowed image, damaged, too large "
                "or too many pixels. Nothing is stored.",
                examples=[
                    OpenApiExample(
                        "Not an image",
                        value={
                            "code": "invalid_attachment",
                            "detail": "The file is not a valid JPEG, PNG, GIF or WebP image, "
                            "or it is damaged.",
                        },
                    )
                ],
            ),
            429: OpenApiResponse(description="Too many uploads; retry later."),
            503: OpenApiResponse(
                UploadErrorSchema,
                description="`busy` (`retryable: true`): too many images being decoded, or "
                "the file storage is unreachable. Nothing is stored; retry.",
            ),
        },
        summary="Upload an image: verified, re-encoded without metadata, with a thumbnail.",
    )
    def post(self, request: Request) -> Response:
        declared = request.META.get("CONTENT_LENGTH") or ""
        limit = max(settings.UPLOAD_MAX_BYTES, settings.CHAT_FILE_MAX_BYTES)
        # Refuse an obviously oversized body before the parser spools it to disk.
        if declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
            raise InvalidAttachment(
                _("The image is too large; the limit is %(mb)s MB.")
                % {"mb": round(settings.UPLOAD_MAX_BYTES / 2**20, 1)}
            )
        data = UploadInput(data=request.data)
        if not data.is_valid():
            raise InvalidAttachment(_("Send one image as the multipart field `file`."))
        # IsAuthenticated (the default permission) has already refused anonymous users.
        owner = cast(User, request.user)
        if data.validated_data.get("kind") == "file":
            upload = document_create(
                owner=owner,
                file=data.validated_data["file"],
                name=data.validated_data.get("name"),
            )
        else:
            upload = upload_create(owner=owner, file=data.validated_data["file"])
        return Response(upload_payload(upload), status=status.HTTP_201_CREATED)


class AnyAccept(DefaultContentNegotiation):
    """Never refuse for `Accept`: `<img>` and `wx.downloadFile` ask for images, while errors
    are still JSON."""

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        first = next(iter(renderers))
        return first, first.media_type


_FILE_RESPONSES = {
    (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The bytes."),
    302: OpenApiResponse(
        description="On S3 storage: a redirect to a short-lived signed URL of the bytes "
        "(follow it without the `Authorization` header)."
    ),
    304: OpenApiResponse(description="`If-None-Match` matched the `ETag`."),
    401: OpenApiResponse(UploadErrorSchema, description="Not authenticated."),
    404: OpenApiResponse(
        UploadErrorSchema,
        description="No such upload, or not visible to you (not its owner, not an active "
        "member of a conversation where it was sent).",
    ),
    503: OpenApiResponse(UploadErrorSchema, description="`busy`: file storage unavailable; retry."),
}


class UploadFileApi(APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        responses=_FILE_RESPONSES,
        summary="An upload's image, for those allowed to see it (session or token).",
    )
    def get(self, request: Request, upload_id: int) -> HttpResponseBase:
        upload = access_upload(user=me(request), upload_id=upload_id)
        if upload.kind == Upload.Kind.FILE:
            # Documents download (never render inline) under the name they were sent with.
            return stored_field_response(
                request,
                field=upload.file,
                content_type=upload.content_type,
                download_name=upload.name,
            )
        return stored_field_response(request, field=upload.image, content_type=upload.content_type)


class UploadThumbnailApi(APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        responses=_FILE_RESPONSES,
        summary="An upload's thumbnail (at most 320 px), with the same access as its image.",
    )
    def get(self, request: Request, upload_id: int) -> HttpResponseBase:
        upload = access_upload(user=me(request), upload_id=upload_id)
        if upload.kind == Upload.Kind.FILE:
            raise NotFound(_("Documents have no thumbnail."))
        return stored_field_response(request, field=upload.thumbnail)
