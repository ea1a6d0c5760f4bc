"""The example mini-program's static parts: its SDK copy, WXML and JSON files."""

import json
import xml.etree.ElementTree as ET

import pytest

from tests.servers import ROOT

MINIPROGRAM = ROOT / "clients" / "miniprogram"


def test_sdk_copy_is_identical_to_the_source():
    # Mini-programs cannot import outside their folder; the copy must never drift.
    source = (ROOT / "static" / "js" / "happychat-client.js").read_bytes()
    assert (MINIPROGRAM / "lib" / "happychat-client.js").read_bytes() == source, (
        "run: cp static/js/happychat-client.js clients/miniprogram/lib/"
    )


@pytest.mark.parametrize("path", sorted(MINIPROGRAM.rglob("*.wxml")), ids=lambda p: p.name)
def test_wxml_is_well_formed_xml(path):
    # WXML has several top-level nodes and the `wx:` prefix: wrap it and declare the prefix.
    text = path.read_text(encoding="utf-8")
    ET.fromstring(f'<root xmlns:wx="urn:wxml">{text}</root>')  # noqa: S314 (our own files)


@pytest.mark.parametrize("path", sorted(MINIPROGRAM.rglob("*.json")), ids=lambda p: p.name)
def test_json_files_parse(path):
    json.loads(path.read_text(encoding="utf-8"))


def test_every_page_in_app_json_has_its_four_files():
    pages = json.loads((MINIPROGRAM / "app.json").read_text())["pages"]
    assert len(pages) == 5
    for page in pages:
        for ext in ("js", "wxml", "wxss", "json"):
            assert (MINIPROGRAM / f"{page}.{ext}").is_file(), f"{page}.{ext}"


def test_the_composer_takes_a_whole_message():
    # WeChat's <input> keeps only 140 characters unless given maxlength; a text may have 5,000
    # (the page sets maxChars from hello.limits; tests/js/miniprogram.test.mjs checks it).
    text = (MINIPROGRAM / "pages" / "chat" / "chat.wxml").read_text(encoding="utf-8")
    root = ET.fromstring(f'<root xmlns:wx="urn:wxml">{text}</root>')  # noqa: S314
    (draft,) = [node for node in root.iter("input") if node.get("class") == "draft"]
    assert draft.get("maxlength") == "{{maxChars}}"
