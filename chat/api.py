"""REST for conversations: the inbox, history pages, sending over HTTP, read, mute."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import friend_remarks
from chat import selectors
from chat.serializers import (
    ConversationSchema,
    HistoryQuery,
    MessagePageSchema,
    MessageSchema,
    MessageSendInput,
    ReadInput,
    ReadResult,
    message_payload,
)
from chat.services.messages import conversation_mark_read, conversation_mute_set, message_send
from happychat.api import me


class ConversationListApi(APIView):
    @extend_schema(
        responses=ConversationSchema(many=True),
        summary="The user's conversations, newest activity first, with unread counts.",
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.conversation_list(user=me(request)))


class ConversationDetailApi(APIView):
    @extend_schema(responses=ConversationSchema, summary="One conversation of the user.")
    def get(self, request: Request, conversation_id: int) -> Response:
        member = selectors.access_conversation(user=me(request), conversation_id=conversation_id)
        return Response(selectors.conversation_row(member=member))


class MessageListApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("before", int, description="Messages with seq below this."),
            OpenApiParameter("after", int, description="Messages with seq above this."),
            OpenApiParameter("limit", int, description="Page size, 1–200 (default 50)."),
        ],
        responses=MessagePageSchema,
        summary="A page of history, oldest first (keyset on seq).",
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        query = HistoryQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        member = selectors.access_conversation(user=me(request), conversation_id=conversation_id)
        page = selectors.message_page(
            member=member,
            before=query.validated_data.get("before"),
            after=query.validated_data.get("after"),
            limit=query.validated_data["limit"],
        )
        remarks = friend_remarks(me(request).pk)
        return Response(
            {
                "results": [message_payload(m, remarks=remarks) for m in page.messages],
                "has_more": page.has_more,
            }
        )

    @extend_schema(
        request=MessageSendInput,
        responses={201: MessageSchema, 200: MessageSchema},
        summary="Send a message: 201 when stored, 200 with the same message on a retry.",
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        data = MessageSendInput(data=request.data)
        data.is_valid(raise_exception=True)
        message, created = message_send(
            sender=me(request),
            conversation_id=conversation_id,
            client_id=data.validated_data["id"],
            kind=data.validated_data["kind"],
            body=data.validated_data["body"],
            attachment_id=data.validated_data.get("attachment"),
        )
        return Response(
            message_payload(message),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ConversationReadApi(APIView):
    @extend_schema(request=ReadInput, responses=ReadResult, summary="Mark read up to `seq`.")
    def post(self, request: Request, conversation_id: int) -> Response:
        data = ReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        member = conversation_mark_read(
            user=me(request), conversation_id=conversation_id, seq=data.validated_data["seq"]
        )
        return Response(_read_result(member))


class MuteInput(serializers.Serializer):
    muted = serializers.BooleanField()


class ConversationMuteApi(APIView):
    @extend_schema(
        request=MuteInput,
        responses=inline_serializer(
            "MuteResult",
            {"conversation": serializers.IntegerField(), "muted": serializers.BooleanField()},
        ),
        summary="Mute or unmute notifications for a conversation (an extension of v1).",
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        data = MuteInput(data=request.data)
        data.is_valid(raise_exception=True)
        muted = data.validated_data["muted"]
        member = conversation_mute_set(
            user=me(request), conversation_id=conversation_id, muted=muted
        )
        return Response({"conversation": member.conversation_id, "muted": member.muted})


def _read_result(member: Any) -> dict[str, int]:
    last_seq = member.conversation.last_seq
    return {
        "conversation": member.conversation_id,
        "last_read_seq": member.last_read_seq,
        "unread": max(0, last_seq - member.last_read_seq),
    }
