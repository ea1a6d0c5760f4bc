from django.contrib import admin
from django.urls import include, path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.views import AdminLogoutView
from happychat.converters import IdConverter
from happychat.views import public_media

# Before any app's routes are read: they use <id:…> for every object id in a path.
register_converter(IdConverter, "id")

api_v1 = [
    path("", include("accounts.api_urls")),
    path("", include("friends.api_urls")),
    path("", include("groups.api_urls")),
    path("", include("robot.api_urls")),
    path("", include("chat.api_urls")),
    path("", include("moderation.api_urls")),
    path("", include("push.api_urls")),
    path("", include("ops.api_urls")),
]

urlpatterns = [
    path("admin/logout/", AdminLogoutView.as_view(), name="admin-logout"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("accounts/", include("accounts.allauth_urls")),  # our versions of a few pages
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("friends.urls")),
    path("", include("groups.urls")),
    path("", include("robot.urls")),
    path("", include("chat.urls")),
    path("", include("pwa.urls")),
    # Only avatars are public here; chat uploads are served by access-checked API views.
    re_path(r"^media/(?P<path>(?:avatars|group-avatars)/[A-Za-z0-9._-]+)$", public_media),
]

handler400 = "happychat.views.bad_request"
handler403 = "happychat.views.permission_denied"
handler404 = "happychat.views.page_not_found"
handler500 = "happychat.views.server_error"
