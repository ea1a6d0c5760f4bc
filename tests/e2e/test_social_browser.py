"""Friends and groups pages in Chromium: search, request, accept, remark, delete, create a
group, join, invite, leave — and errors shown in words. Screenshots go to
test-artifacts/screenshots/social-*.png."""

from __future__ import annotations

import pytest

from tests.e2e.chat_ui_support import PASSWORD, befriend, make_user, unique
from tests.e2e.conftest import ARTIFACTS

SHOTS = ARTIFACTS / "screenshots"


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"social-{name}.png"), full_page=True)


def log_in(new_context, base: str, username: str, *, mobile: bool = False):  # type: ignore[no-untyped-def]
    kwargs = {"viewport": {"width": 390, "height": 844}, "is_mobile": True} if mobile else {}
    page = new_context(**kwargs).new_page()
    page.goto(f"{base}/accounts/login/?next=/friends/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form [type=submit]").first.click()
    page.wait_for_url(f"{base}/friends/")
    return page


def flash(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator(".flash").inner_text()


@pytest.mark.timeout(240)
def test_friends_and_groups_pages_work_in_chromium(live_server, live_server_env, new_context):
    base = live_server.url
    ann, ben, cat = unique("ann"), unique("ben"), unique("cat")
    make_user(live_server_env, ann, "Ann")
    make_user(live_server_env, ben, "Ben")
    make_user(live_server_env, cat, "Cat")
    befriend(live_server_env, ann, cat)

    a = log_in(new_context, base, ann)
    b = log_in(new_context, base, ben, mobile=True)
    c = log_in(new_context, base, cat)

    # search and request
    a.fill("[data-testid=people-search]", ben)
    a.press("[data-testid=people-search]", "Enter")
    a.wait_for_selector(f"[data-testid=add-{ben}]")
    a.fill("[data-testid=search-results] input[name=message]", "Hello from Ann")
    a.click(f"[data-testid=add-{ben}]")
    assert "Friend request sent." in flash(a)
    shot(a, "request")

    # a second request is refused, in words
    a.fill("[data-testid=people-search]", ben)
    a.press("[data-testid=people-search]", "Enter")
    a.click(f"[data-testid=add-{ben}]")
    assert "already sent this person a request" in flash(a)
    shot(a, "error-duplicate")

    # accept, on a phone-sized screen
    b.reload()
    assert "Hello from Ann" in b.locator("[data-testid=incoming]").inner_text()
    b.click(f"[data-testid=accept-{ann}]")
    assert "You are now friends." in flash(b)
    shot(b, "accept")

    # remark
    row = b.locator(f"[data-testid=friend-{ann}]")
    row.locator("input[name=remark]").fill("Annie from work")
    row.get_by_role("button", name="Save remark").click()
    assert "Remark saved." in flash(b)
    assert "Annie from work" in b.locator(f"[data-testid=friend-{ann}] .who").inner_text()
    shot(b, "remark")

    # create a group: an empty name is refused in words, then a real one with ben
    group_name = unique("Hikers ")
    a.goto(f"{base}/groups/")
    a.locator("[data-testid=create-group] button[type=submit]").click()
    assert "A group needs a name." in flash(a)
    shot(a, "error-group-name")
    a.fill("#g-name", group_name)
    a.locator("[data-testid=create-group] label", has_text="Ben").locator("input").check()
    a.locator("[data-testid=create-group] button[type=submit]").click()
    assert "Group created." in flash(a)
    assert a.locator("[data-testid=group-name]").inner_text() == group_name
    assert a.locator(f"[data-testid=member-{ben}]").count() == 1
    shot(a, "group")

    # cat finds the public group and joins it
    c.goto(f"{base}/groups/")
    c.fill("[data-testid=group-search]", group_name)
    c.press("[data-testid=group-search]", "Enter")
    c.locator("[data-testid=group-results] button", has_text="Join").click()
    assert "You joined the group." in flash(c)
    assert c.locator(f"[data-testid=member-{cat}]").count() == 1
    shot(c, "join")

    # a private group: ann invites cat, cat accepts the invitation
    secret = unique("Secret ")
    a.goto(f"{base}/groups/")
    a.fill("#g-name", secret)
    a.locator("[data-testid=create-group] input[name=is_public]").uncheck()
    a.locator("[data-testid=create-group] button[type=submit]").click()
    a.select_option("[data-testid=invitee]", label=f"Cat (@{cat})")
    a.click("[data-testid=invite]")
    assert "Invitation sent" in flash(a)
    shot(a, "invite")
    c.goto(f"{base}/groups/")
    assert secret in c.locator("[data-testid=invitations]").inner_text()
    c.click("[data-testid=accept-invitation]")
    assert "You joined the group." in flash(c)
    assert c.locator("[data-testid=group-name]").inner_text() == secret
    shot(c, "invitation-accepted")

    # cat leaves the public group
    c.goto(f"{base}/groups/")
    c.locator("[data-testid=my-groups] a", has_text=group_name).click()
    c.click("[data-testid=leave]")
    assert "You left the group." in flash(c)
    assert group_name not in c.locator("[data-testid=my-groups]").inner_text()
    shot(c, "leave")

    # ben deletes ann
    b.goto(f"{base}/friends/")
    b.click(f"[data-testid=delete-{ann}]")
    assert "Friend deleted." in flash(b)
    assert b.locator(f"[data-testid=friend-{ann}]").count() == 0
    shot(b, "delete")
