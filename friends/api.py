"""REST for the friend graph: people search, friends with remarks, requests, blocks.

Each view parses input, calls one service (or selector) and serializes. Errors have the
shape `{"code", "detail"}` (plus `errors` for malformed fields), see `accounts.api`.
"""

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

from accounts.api import ErrorSerializer, parse
from accounts.selectors import friend_remarks, friendship_list
from accounts.serializers import UserSerializer
from friends import selectors, services
from friends.serializers import (
    block_payload,
    friend_payload,
    friend_request_payload,
    user_card_payload,
    users_payload,
)
from happychat.api import IdField, me

# --- shapes ---------------------------------------------------------------------------


# docs/protocol.md §7 FriendRequest (documentation only); "from" is a keyword, hence inline.
FriendRequestSerializer = inline_serializer(
    "FriendRequest",
    {
        "id": serializers.IntegerField(),
        "from": UserSerializer(),
        "to": UserSerializer(),
        "message": serializers.CharField(),
        "status": serializers.ChoiceField(choices=["pending", "accepted", "rejected"]),
        "created_at": serializers.DateTimeField(),
    },
)


FriendRequestListSerializer: serializers.ListSerializer = serializers.ListSerializer(
    child=FriendRequestSerializer
)


class FriendRequestCreateSerializer(serializers.Serializer):
    to = IdField(help_text="The user id to ask.")
    message = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="At most 200 characters.",
    )


class RemarkSerializer(serializers.Serializer):
    remark = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text="Your private name for this friend; empty clears it. At most 64 characters.",
    )


class BlockCreateSerializer(serializers.Serializer):
    user = IdField(help_text="The user id to block.")


class BlockSerializer(serializers.Serializer):
    user = UserSerializer()
    created_at = serializers.DateTimeField()


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; nothing changed."),
    404: OpenApiResponse(ErrorSerializer, description="`not_found`."),
}


# --- views ----------------------------------------------------------------------------


class UserSearchApi(APIView):
    @extend_schema(
        operation_id="users_search",
        parameters=[
            OpenApiParameter(
                "search", str, description="Username or nickname (contains) or e-mail (exact)."
            )
        ],
        responses={200: UserSerializer(many=True)},
        description="Find people (at most 20). E-mail addresses are matched, never shown.",
    )
    def get(self, request: Request) -> Response:
        users = selectors.user_search(viewer=me(request), query=request.GET.get("search", ""))
        remarks = friend_remarks(me(request).pk)
        return Response(users_payload(users, remarks=remarks))


class UserCardSerializer(UserSerializer):
    """A person's card (documentation only; `user_card_payload` builds it)."""

    bio = serializers.CharField()
    region = serializers.CharField()
    gender = serializers.CharField()
    is_friend = serializers.BooleanField()
    is_blocked = serializers.BooleanField(help_text="Whether you have blocked them.")


class UserDetailApi(APIView):
    @extend_schema(
        operation_id="users_retrieve",
        responses={200: UserCardSerializer, 404: ErrorSerializer},
        description="A person's card: profile, your remark, whether you are friends and "
        "whether you blocked them. `404` for unknown or deactivated accounts.",
    )
    def get(self, request: Request, user_id: int) -> Response:
        card = selectors.user_card(viewer=me(request), user_id=user_id)
        return Response(user_card_payload(card))


class FriendListApi(APIView):
    @extend_schema(
        operation_id="friends_list",
        responses={200: UserSerializer(many=True)},
        description="Your friends, each a User with your `remark` where set.",
    )
    def get(self, request: Request) -> Response:
        friendships = friendship_list(user=me(request))
        return Response([friend_payload(f) for f in friendships])


class FriendDetailApi(APIView):
    @extend_schema(
        operation_id="friends_remark",
        request=RemarkSerializer,
        responses={200: UserSerializer, **ERRORS},
        description="Set your private remark for a friend.",
    )
    def patch(self, request: Request, user_id: int) -> Response:
        data = parse(RemarkSerializer, request.data)
        friendship = services.friend_remark_set(
            user=me(request), friend_id=user_id, remark=data["remark"]
        )
        return Response(friend_payload(friendship))

    @extend_schema(
        operation_id="friends_delete",
        responses={204: OpenApiResponse(description="No longer friends."), **ERRORS},
        description="Delete a friend: neither can send in your direct conversation "
        "afterwards (`not_friends`); its history stays readable.",
    )
    def delete(self, request: Request, user_id: int) -> Response:
        services.friend_delete(user=me(request), friend_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FriendRequestListApi(APIView):
    @extend_schema(
        operation_id="friend_requests_list",
        responses={200: FriendRequestListSerializer},
        description="Requests you sent or received, newest first.",
    )
    def get(self, request: Request) -> Response:
        requests = selectors.friend_request_list(user=me(request))
        return Response([friend_request_payload(r) for r in requests])

    @extend_schema(
        operation_id="friend_requests_create",
        request=FriendRequestCreateSerializer,
        responses={
            201: FriendRequestSerializer,
            200: OpenApiResponse(
                FriendRequestSerializer,
                description="They had already asked you: their request is now accepted.",
            ),
            403: OpenApiResponse(ErrorSerializer, description="A block stands between you."),
            409: OpenApiResponse(
                ErrorSerializer, description="Already friends, or a request is pending."
            ),
            **ERRORS,
        },
        description="Ask someone to be friends, with an optional message.",
    )
    def post(self, request: Request) -> Response:
        data = parse(FriendRequestCreateSerializer, request.data)
        friend_request = services.friend_request_send(
            from_user=me(request), to_user_id=data["to"], message=data["message"]
        )
        created = friend_request.from_user_id == me(request).pk
        return Response(
            friend_request_payload(friend_request),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class FriendRequestAcceptApi(APIView):
    @extend_schema(
        operation_id="friend_requests_accept",
        request=None,
        responses={200: FriendRequestSerializer, 409: ErrorSerializer, **ERRORS},
        description="Accept a request sent to you: you become friends and your direct "
        "conversation opens.",
    )
    def post(self, request: Request, request_id: int) -> Response:
        friend_request = services.friend_request_accept(user=me(request), request_id=request_id)
        return Response(friend_request_payload(friend_request))


class FriendRequestRejectApi(APIView):
    @extend_schema(
        operation_id="friend_requests_reject",
        request=None,
        responses={200: FriendRequestSerializer, 409: ErrorSerializer, **ERRORS},
        description="Reject a request sent to you.",
    )
    def post(self, request: Request, request_id: int) -> Response:
        friend_request = services.friend_request_reject(user=me(request), request_id=request_id)
        return Response(friend_request_payload(friend_request))


class BlockListApi(APIView):
    @extend_schema(
        operation_id="blocks_list",
        responses={200: BlockSerializer(many=True)},
        description="People you have blocked.",
    )
    def get(self, request: Request) -> Response:
        return Response([block_payload(b) for b in selectors.block_list(user=me(request))])

    @extend_schema(
        operation_id="blocks_create",
        request=BlockCreateSerializer,
        responses={
            201: BlockSerializer,
            200: OpenApiResponse(BlockSerializer, description="Already blocked."),
            **ERRORS,
        },
        description="Block someone: their friend requests and messages are refused, "
        "pending requests between you are rejected. They are not told.",
    )
    def post(self, request: Request) -> Response:
        data = parse(BlockCreateSerializer, request.data)
        block, created = services.user_block(user=me(request), blocked_id=data["user"])
        return Response(
            block_payload(block),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class BlockDetailApi(APIView):
    @extend_schema(
        operation_id="blocks_delete",
        responses={204: OpenApiResponse(description="Unblocked."), **ERRORS},
        description="Lift a block.",
    )
    def delete(self, request: Request, user_id: int) -> Response:
        services.user_unblock(user=me(request), blocked_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
