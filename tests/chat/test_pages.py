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
    assert 'id="conversations"' in html
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
