"""The SDK's TypeScript declarations (static/js/happychat-client.d.ts) stay true.

`tsc --strict` (pinned in package-lock.json) type-checks a small program per platform
(tests/js/types/: browser with the DOM lib, WeChat with miniprogram-api-typings' `wx`, Node
with @types/node and @types/ws) against the declarations; tests/js/types/drift.mjs checks
that the JS and the .d.ts name the same exports, members, adapter parts and events; and every
`client.api` helper must reach an operation of the OpenAPI schema, every operation a helper.
"""

import json
import re
import subprocess

import pytest

from tests.servers import ROOT

TYPES = ROOT / "tests" / "js" / "types"
TSC = ROOT / "node_modules" / "typescript" / "bin" / "tsc"
# Operations reached through URLs the server hands out (Attachment.url / thumbnail_url),
# with client.api.downloadImage / downloadFile.
BY_URL = {("GET", "/api/v1/uploads/{}/file/"), ("GET", "/api/v1/uploads/{}/thumbnail/")}


def node(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    if not TSC.is_file():
        pytest.fail("the npm packages are needed (npm ci): run ./scripts/test")
    return subprocess.run(
        ["node", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.parametrize("platform", ["browser", "wechat", "node"])
def test_declarations_type_check_a_program_per_platform(platform):
    result = node(str(TSC), "-p", str(TYPES / f"tsconfig.{platform}.json"))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def normalize(path: str) -> str:
    return re.sub(r"/(\d+|\{[a-z_]+\})(?=/)", "/{}", path)


@pytest.mark.django_db
def test_declarations_match_the_js_and_every_operation_has_a_helper(client):
    result = node(str(TYPES / "drift.mjs"))
    assert result.returncode == 0, result.stderr[-6000:]
    calls = json.loads(result.stdout)["calls"]
    reached = {
        (method, normalize(path))
        for pairs in calls.values()
        for method, path in pairs
        if path.startswith("/api/")
    }
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operations = {
        (method.upper(), normalize(path))
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert operations - reached - BY_URL == set(), "operations without a client.api helper"
    assert reached - operations == set(), "helpers calling what the schema does not have"
    assert operations >= BY_URL
    assert calls["downloadImage"] == calls["downloadFile"] == [["GET", "7"]]  # the URL given
