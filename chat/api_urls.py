from django.urls import path

from chat import api
from chat.api_uploads import UploadCreateApi, UploadFileApi, UploadThumbnailApi

urlpatterns = [
    path("conversations/", api.ConversationListApi.as_view(), name="conversation-list"),
    path(
        "conversations/<id:conversation_id>/",
        api.ConversationDetailApi.as_view(),
        name="conversation-detail",
    ),
    path(
        "conversations/<id:conversation_id>/messages/",
        api.MessageListApi.as_view(),
        name="conversation-messages",
    ),
    path(
        "conversations/<id:conversation_id>/read/",
        api.ConversationReadApi.as_view(),
        name="conversation-read",
    ),
    path(
        "conversations/<id:conversation_id>/mute/",
        api.ConversationMuteApi.as_view(),
        name="conversation-mute",
    ),
    path("uploads/", UploadCreateApi.as_view(), name="upload-create"),
    path("messages/forward/", api.MessageForwardApi.as_view(), name="message-forward"),
    path("messages/<id:message_id>/", api.MessageDetailApi.as_view(), name="message-detail"),
    path("messages/<id:message_id>/recall/", api.MessageRecallApi.as_view(), name="message-recall"),
    path(
        "messages/<id:message_id>/reactions/",
        api.MessageReactionApi.as_view(),
        name="message-reactions",
    ),
    path("search/messages/", api.MessageSearchApi.as_view(), name="message-search"),
    path("uploads/<id:upload_id>/file/", UploadFileApi.as_view(), name="upload-file"),
    path(
        "uploads/<id:upload_id>/thumbnail/",
        UploadThumbnailApi.as_view(),
        name="upload-thumbnail",
    ),
]
