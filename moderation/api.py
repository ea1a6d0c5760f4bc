"""REST for reporting a message (docs/protocol.md: POST /api/v1/messages/<id>/report/)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from moderation.models import MessageReport
from moderation.services import message_report_create


class ReportInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500, trim_whitespace=True)


ReportSchema = inline_serializer(
    "MessageReport",
    {
        "id": serializers.IntegerField(),
        "message": serializers.IntegerField(),
        "reason": serializers.CharField(),
        "status": serializers.ChoiceField(choices=MessageReport.Status.choices),
        "created_at": serializers.DateTimeField(),
    },
)


def report_payload(report: MessageReport) -> dict[str, object]:
    return {
        "id": report.pk,
        "message": report.message_id,
        "reason": report.reason,
        "status": report.status,
        "created_at": report.created_at.isoformat(),
    }


class MessageReportApi(APIView):
    @extend_schema(
        request=ReportInput,
        responses={201: ReportSchema, 200: ReportSchema},
        summary="Report a message you can see to the operators (200 if you already did).",
    )
    def post(self, request: Request, message_id: int) -> Response:
        data = ReportInput(data=request.data)
        data.is_valid(raise_exception=True)
        assert isinstance(request.user, User)  # noqa: S101 -- IsAuthenticated ran first
        report, created = message_report_create(
            reporter=request.user, message_id=message_id, reason=data.validated_data["reason"]
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(report_payload(report), status=code)
