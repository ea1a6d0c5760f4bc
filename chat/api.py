"""REST for conversations: the inbox, history pages, sending over HTTP, read, mute."""

from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import ErrorSerializer
from accounts.selectors import friend_remarks
from chat import selectors
from chat.serializers import (
    ConversationSchema,
    EditInput,
    ForwardInput,
    HistoryQuery,
    MessagePageSchema,
    MessageSchema,
    MessageSendInput,
    ReactInput,
    ReadInput,
    ReadResult,
    SearchPageSchema,
    SearchQuery,
    message_payload,
)
from chat.services.changes import message_edit, message_react, message_recall, messages_forward
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
            OpenApiParameter(
                "around", int, description="A page centred on this seq (jump to a message)."
            ),
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
            around=query.validated_data.get("around"),
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
            reply_to=data.validated_data.get("reply_to"),
            mentions=data.validated_data.get("mentions"),
            mention_all=data.validated_data["mention_all"],
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
    return {
        "conversation": member.conversation_id,
        "last_read_seq": member.last_read_seq,
        "unread": selectors.unread_count(member=member, top=selectors.visible_last_seq(member)),
    }


# --- one message: read, edit, recall, react; forward; search ------------------------------


CONFLICT = OpenApiResponse(
    ErrorSerializer, description="`conflict`: the message was recalled (nothing changed)."
)


class MessageDetailApi(APIView):
    @extend_schema(responses=MessageSchema, summary="One message you may read, folded.")
    def get(self, request: Request, message_id: int) -> Response:
        message = selectors.access_message(user=me(request), message_id=message_id)
        return Response(message_payload(message, remarks=friend_remarks(me(request).pk)))

    @extend_schema(
        request=EditInput,
        responses={200: MessageSchema, 409: CONFLICT},
        summary="Edit your own text message (within CHAT_EDIT_SECONDS); answers it folded.",
    )
    def patch(self, request: Request, message_id: int) -> Response:
        data = EditInput(data=request.data)
        data.is_valid(raise_exception=True)
        target, _entry = message_edit(
            user=me(request), message_id=message_id, body=data.validated_data["body"]
        )
        return Response(message_payload(target))


class MessageRecallApi(APIView):
    @extend_schema(
        request=None,
        responses=MessageSchema,
        summary="Recall a message: yours within CHAT_RECALL_SECONDS, or a member's as a "
        "group owner/admin. Answers it folded (recalled, body and attachment empty).",
    )
    def post(self, request: Request, message_id: int) -> Response:
        target, _entry = message_recall(user=me(request), message_id=message_id)
        return Response(message_payload(target))


class MessageReactionApi(APIView):
    @extend_schema(
        request=ReactInput,
        responses={200: MessageSchema, 409: CONFLICT},
        summary="Add (`on: true`), remove (`on: false`) or toggle your reaction.",
    )
    def post(self, request: Request, message_id: int) -> Response:
        data = ReactInput(data=request.data)
        data.is_valid(raise_exception=True)
        target, _entry = message_react(
            user=me(request),
            message_id=message_id,
            emoji=data.validated_data["emoji"],
            on=data.validated_data.get("on"),
        )
        return Response(message_payload(target))


class MessageForwardApi(APIView):
    @extend_schema(
        request=ForwardInput,
        responses={201: MessageSchema(many=True), 409: CONFLICT},
        summary="Forward messages you can read to a conversation you may post in.",
    )
    def post(self, request: Request) -> Response:
        data = ForwardInput(data=request.data)
        data.is_valid(raise_exception=True)
        copies = messages_forward(
            user=me(request),
            message_ids=data.validated_data["messages"],
            conversation_id=data.validated_data["conversation"],
            client_id=data.validated_data["id"],
        )
        return Response([message_payload(m) for m in copies], status=status.HTTP_201_CREATED)


class MessageSearchApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True, description="Words (English, 中文)."),
            OpenApiParameter("conversation", int, description="Only this conversation."),
            OpenApiParameter("sender", int, description="Only this sender's messages."),
            OpenApiParameter("before", int, description="Results with id below this."),
            OpenApiParameter("limit", int, description="Page size, 1–50 (default 20)."),
        ],
        responses=SearchPageSchema,
        summary="Messages you may read containing every word, newest first, with snippets.",
    )
    def get(self, request: Request) -> Response:
        query = SearchQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        page = selectors.message_search(
            user=me(request),
            q=params["q"],
            conversation_id=params.get("conversation"),
            sender_id=params.get("sender"),
            before=params.get("before"),
            limit=params["limit"],
        )
        remarks = friend_remarks(me(request).pk)
        return Response(
            {
                "results": [
                    {**message_payload(m, remarks=remarks), "snippet": snippet}
                    for m, snippet in page.hits
                ],
                "has_more": page.has_more,
            }
        )
