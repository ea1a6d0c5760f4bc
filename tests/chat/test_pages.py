"""The app shell page and the JS translation catalog."""

import json

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.django_db
def test_shell_renders_for_a_logged_in_user_with_escaped_user_data(client, user):
    user.nickname = "</script><img src=x onerror=alert(1)>"
    user.save()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="list-pane"' in html
    assert 'type="module"' in html
    # json_script escapes <, so the nickname cannot close the script element.
    assert "<img src=x onerror" not in html
    assert "\\u003C/script\\u003E" in html


@pytest.mark.django_db
def test_shell_speaks_chinese_when_asked(client, user):
    client.force_login(user)
    response = client.get("/", headers={"accept-language": "zh-hans"})
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()


@pytest.mark.django_db
def test_shell_only_answers_get(client, user):
    client.force_login(user)
    assert client.post("/").status_code == 405


@pytest.mark.django_db
def test_javascript_catalog_is_served(client):
    response = client.get(reverse("javascript-catalog"))
    assert response.status_code == 200
    assert "gettext" in response.content.decode()


@pytest.mark.django_db
def test_javascript_catalog_has_the_chat_strings_in_chinese(client):
    response = client.get(reverse("javascript-catalog"), headers={"accept-language": "zh-hans"})
    body = response.content.decode()
    # The catalog is JSON with \u escapes.
    assert f'"New messages": {json.dumps("以下为新消息")}' in body
    assert json.dumps("%(count)s 条未读消息") in body


SHELL_PATHS = [
    "/",
    "/chats/12/",
    "/chats/12/info/",
    "/contacts/",
    "/contacts/requests/",
    "/contacts/groups/",
    "/contacts/find/",
    "/people/3/",
    "/me/",
    "/settings/",
    "/new/chat/",
    "/new/group/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", SHELL_PATHS)
def test_every_screen_of_the_shell_has_a_url_the_server_answers(client, user, path):
    client.force_login(user)
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="app"' in html
    assert 'type="module"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/chats/12/info/", "/contacts/requests/", "/settings/"])
def test_a_deep_link_logs_in_first_and_comes_back(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={path}"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/contacts/everyone/", "/chats/x/", "/new/robot/"])
def test_paths_that_are_no_screen_are_404(client, user, path):
    client.force_login(user)
    assert client.get(path).status_code == 404


@pytest.mark.django_db
def test_the_shell_links_nowhere_near_the_fallback_pages_except_without_javascript(client, user):
    client.force_login(user)
    html = client.get("/").content.decode()
    outside_noscript = html.split("<noscript>")[0] + html.split("</noscript>")[1]
    for fallback in ('href="/friends/"', 'href="/groups/"', 'href="/profile/"'):
        assert fallback not in outside_noscript
        assert fallback in html  # the no-JavaScript way remains


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/friends/", "/groups/", "/profile/"])
def test_every_page_applies_the_theme_choice_before_it_paints(client, user, path):
    if path != "/accounts/login/":
        client.force_login(user)
    html = client.get(path).content.decode()
    head = html.split("</head>")[0]
    assert "js/theme.js" in head
    assert head.index("js/theme.js") < head.index("css/base.css")
