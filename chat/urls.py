from django.urls import path, re_path
from django.views.i18n import JavaScriptCatalog

from chat import views

# Every screen of the app shell has its own URL (deep links, reloads, browser back); the
# server answers each with the same shell, and the JS router draws the screen.
urlpatterns = [
    path("", views.app_shell, name="chat_app"),
    path("chats/<id:conversation_id>/", views.app_shell, name="shell-chat"),
    path("chats/<id:conversation_id>/info/", views.app_shell, name="shell-chat-info"),
    path("contacts/", views.app_shell, name="shell-contacts"),
    re_path(
        r"^contacts/(?P<tab>requests|groups|find)/$", views.app_shell, name="shell-contacts-tab"
    ),
    path("people/<id:user_id>/", views.app_shell, name="shell-person"),
    path("me/", views.app_shell, name="shell-me"),
    path("settings/", views.app_shell, name="shell-settings"),
    re_path(r"^new/(?P<kind>chat|group)/$", views.app_shell, name="shell-new"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]
