// The shell's URL table (static/js/shell/router.js): what each path opens, and where back
// leads when there is no in-app history.
import assert from "node:assert/strict";
import { test } from "node:test";

import { parentOf, parse } from "../shell/router.js";

test("every screen's path parses to its route", () => {
  assert.deepEqual(parse("/"), { name: "home", path: "/" });
  assert.deepEqual(parse("/chats/12/"), { name: "chat", id: 12, path: "/chats/12/" });
  assert.deepEqual(parse("/chats/12/info/"), { name: "info", id: 12, path: "/chats/12/info/" });
  assert.deepEqual(parse("/contacts/"), { name: "contacts", tab: "friends", path: "/contacts/" });
  for (const tab of ["requests", "groups", "find"]) {
    assert.equal(parse(`/contacts/${tab}/`).tab, tab);
  }
  assert.deepEqual(parse("/people/7/"), { name: "person", id: 7, path: "/people/7/" });
  assert.equal(parse("/me/").name, "me");
  assert.equal(parse("/settings/").name, "settings");
  assert.equal(parse("/new/group/").kind, "group");
  assert.equal(parse("/new/chat/").kind, "chat");
});

test("paths that are no screen (server pages, typos) are left to the browser", () => {
  for (const path of ["/friends/", "/groups/", "/profile/", "/accounts/login/", "/chats/x/",
    "/contacts/everyone/", "/chats/12", "/api/v1/me/", "/new/robot/"]) {
    assert.equal(parse(path), null, path);
  }
});

test("back without history goes up one level", () => {
  assert.equal(parentOf(parse("/chats/3/")), "/");
  assert.equal(parentOf(parse("/chats/3/info/")), "/chats/3/");
  assert.equal(parentOf(parse("/people/4/")), "/contacts/");
  assert.equal(parentOf(parse("/settings/")), "/me/");
  assert.equal(parentOf(parse("/new/group/")), "/");
});
