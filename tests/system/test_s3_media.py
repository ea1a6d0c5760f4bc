"""Media in S3-compatible storage (MEDIA_STORAGE=s3), against moto's server on loopback.

The scale-out path (PostgreSQL, Redis, two daphnes) with the bucket: an image uploaded
through one daphne is fetched by a member through the other, strangers and anonymous
clients are refused, deleting an upload removes its objects; the local → bucket copy
command is re-runnable; with the bucket down, uploads are a retryable `busy` while text
still sends.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import httpx
import pytest
from PIL import Image

from tests.servers import PYTHON, ROOT
from tests.system.conftest import Site, base_env, create_pg_database
from tests.system.s3 import MotoS3
from tests.system.wsclient import WS


def photo(size: tuple[int, int] = (900, 600), colour: tuple[int, int, int] = (30, 140, 90)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


def upload(url: str, token: str, data: bytes) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/uploads/",
        headers=auth(token),
        files={"file": ("p.png", data, "image/png")},
        timeout=60,
    )


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[MotoS3]:
    server = MotoS3(tmp_path / "moto.log").start()
    yield server
    server.stop()


@pytest.fixture
def s3_site(postgres_server, redis_server, s3: MotoS3, tmp_path: Path) -> Iterator[Site]:
    """The scale-out path with its media in the bucket."""
    import redis

    redis.Redis.from_url(redis_server.url).flushall()
    env = base_env(
        tmp_path,
        DATABASE_URL=create_pg_database(postgres_server),
        REDIS_URL=redis_server.url,
        **s3.env(),
    )
    site = Site(env, tmp_path)
    yield site
    site.close()


async def test_an_image_uploaded_through_one_daphne_is_fetched_through_the_other(
    s3_site: Site, s3: MotoS3, tmp_path: Path
):
    world = s3_site.seed(
        users=["amy", "bo", "cy"],
        friends=[["amy", "bo"]],
        groups=[{"name": "pics", "owner": "amy", "members": ["bo"]}],
    )
    tok = {name: u["token"] for name, u in world["users"].items()}
    group = world["groups"]["pics"]["conversation"]
    one, two = s3_site.daphne(), s3_site.daphne()

    data = photo()
    created = upload(one.url, tok["amy"], data)
    assert created.status_code == 201, created.text
    attachment = created.json()
    keys = s3.object_keys()
    assert len(keys) == 2  # the image and its thumbnail, in the bucket
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*.*"))

    amy = await WS.open(one.ws_url, tok["amy"])
    bo = await WS.open(two.ws_url, tok["bo"])
    try:
        frame = {
            "type": "send",
            "id": "pic-1",
            "conversation": group,
            "kind": "image",
            "attachment": attachment["id"],
        }
        ack = await amy.request(frame, "ack")
        got = await bo.expect("message", where=lambda f: f["message"]["id"] == ack["message"]["id"])
    finally:
        await amy.close()
        await bo.close()
    sent = got["message"]["attachment"]
    assert sent["url"] == f"/api/v1/uploads/{attachment['id']}/file/"

    with httpx.Client(base_url=two.url, timeout=30) as client:
        for which in ("url", "thumbnail_url"):
            redirect = client.get(sent[which], headers=auth(tok["bo"]))
            assert redirect.status_code == 302, redirect.text
            location = redirect.headers["location"]
            assert location.startswith(s3.url + "/")
            assert "X-Amz-Expires=300" in location  # short-lived
            assert redirect.headers["cache-control"].startswith("private")
            # Following it sends no Authorization to the bucket (another origin).
            fetched = client.get(sent[which], headers=auth(tok["bo"]), follow_redirects=True)
            assert fetched.status_code == 200
            picture = Image.open(io.BytesIO(fetched.content))
            if which == "url":
                assert picture.size == (900, 600)
            else:
                assert max(picture.size) == 320
        # A stranger and an anonymous client get nothing, not even a signed URL.
        assert client.get(sent["url"], headers=auth(tok["cy"])).status_code == 404
        assert client.get(sent["thumbnail_url"], headers=auth(tok["cy"])).status_code == 404
        assert client.get(sent["url"]).status_code == 401
        assert client.get(sent["thumbnail_url"]).status_code == 401
        # Pages let browsers load images from the bucket the redirects point at.
        policy = client.get("/accounts/login/").headers["content-security-policy"]
        directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
        assert s3.url in directives["img-src"]
        assert s3.url in directives["connect-src"]
        # Nothing in the bucket is public.
        for key in keys:
            grants = s3.client().get_object_acl(Bucket="happychat-media", Key=key)["Grants"]
            assert all("AllUsers" not in str(g.get("Grantee")) for g in grants)

        # Avatars (PATCH or POST, as a mini-program's wx.uploadFile does) go to the bucket
        # and are public, through our stable URL on either daphne.
        before = s3.object_keys()
        me = client.post(
            "/api/v1/me/avatar/",
            headers=auth(tok["amy"]),
            files={"file": ("a.png", photo((300, 300)), "image/png")},
        )
        assert me.status_code == 200, me.text
        avatar = me.json()["avatar"]
        assert avatar.startswith("/media/avatars/")
        assert s3.object_keys() - before == {avatar.removeprefix("/media/")}
        shown = httpx.get(one.url + avatar, follow_redirects=True, timeout=30)
        assert shown.status_code == 200
        assert Image.open(io.BytesIO(shown.content)).size == (256, 256)

        group_id = world["groups"]["pics"]["id"]
        pictures = []
        for colour in ((200, 0, 0), (0, 0, 200)):
            changed = client.post(
                f"/api/v1/groups/{group_id}/avatar/",
                headers=auth(tok["amy"]),
                files={"file": ("g.png", photo((300, 300), colour), "image/png")},
            )
            assert changed.status_code == 200, changed.text
            pictures.append(changed.json()["avatar"].removeprefix("/media/"))
        # The replaced group picture is gone from the bucket; the new one is served.
        assert pictures[0].startswith("group-avatars/")
        assert pictures[0] not in s3.object_keys()
        assert pictures[1] in s3.object_keys()
        shown = httpx.get(f"{one.url}/media/{pictures[1]}", follow_redirects=True, timeout=30)
        assert shown.status_code == 200
        assert Image.open(io.BytesIO(shown.content)).convert("RGB").getpixel((128, 128))[2] > 150

    # A document goes the same way, downloaded under its own name.
    pdf = b"%PDF-1.4\n% a tiny document\n" + bytes(range(256)) * 40
    before = s3.object_keys()
    with httpx.Client(base_url=one.url, timeout=30, headers=auth(tok["amy"])) as client:
        document = client.post(
            "/api/v1/uploads/",
            data={"kind": "file"},
            files={"file": ("Plan Q3.pdf", pdf, "application/pdf")},
        )
        assert document.status_code == 201, document.text
        doc_keys = s3.object_keys() - before
        assert len(doc_keys) == 1
        doc_message = client.post(
            f"/api/v1/conversations/{group}/messages/",
            json={"id": "doc-1", "kind": "file", "attachment": document.json()["id"]},
        )
        assert doc_message.status_code == 201, doc_message.text
    doc_url = doc_message.json()["attachment"]["url"]
    with httpx.Client(base_url=two.url, timeout=30) as client:
        redirect = client.get(doc_url, headers=auth(tok["bo"]))
        assert redirect.status_code == 302, redirect.text
        assert "response-content-disposition=attachment" in redirect.headers["location"]
        fetched = client.get(doc_url, headers=auth(tok["bo"]), follow_redirects=True)
        assert fetched.status_code == 200
        assert fetched.content == pdf
        assert client.get(doc_url, headers=auth(tok["cy"])).status_code == 404

    # Recalling a message deletes its files from the bucket: the image and its thumbnail,
    # the document.
    with httpx.Client(base_url=one.url, timeout=30) as client:
        for message_id in (ack["message"]["id"], doc_message.json()["id"]):
            recalled = client.post(
                f"/api/v1/messages/{message_id}/recall/", headers=auth(tok["amy"])
            )
            assert recalled.status_code == 200, recalled.text
            assert recalled.json()["recalled"] is True
    assert not (keys | doc_keys) & s3.object_keys()


async def test_with_the_bucket_down_uploads_are_busy_and_text_still_sends(
    s3_site: Site, s3: MotoS3
):
    world = s3_site.seed(users=["dee", "eli"], friends=[["dee", "eli"]])
    token = world["users"]["dee"]["token"]
    server = s3_site.daphne()
    assert upload(server.url, token, photo()).status_code == 201

    s3.stop()
    refused = upload(server.url, token, photo((400, 300)))

    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "busy"
    assert refused.json()["retryable"] is True
    avatar = httpx.post(
        f"{server.url}/api/v1/me/avatar/",
        headers=auth(token),
        files={"file": ("a.png", photo((300, 300)), "image/png")},
        timeout=60,
    )
    assert avatar.status_code == 503, avatar.text
    assert (avatar.json()["code"], avatar.json()["retryable"]) == ("busy", True)
    me = httpx.get(f"{server.url}/api/v1/me/", headers=auth(token), timeout=30).json()
    assert me["avatar"] is None  # nothing half-changed
    ws = await WS.open(server.ws_url, token)
    try:
        frame = {
            "type": "send",
            "id": "t-1",
            "conversation": world["direct"]["dee:eli"],
            "body": "text does not need the bucket",
        }
        ack = await ws.request(frame, "ack", timeout=10)
    finally:
        await ws.close()
    assert ack["message"]["body"] == "text does not need the bucket"


def test_local_media_moves_into_the_bucket_and_the_copy_can_run_again(
    sqlite_site: Site, s3: MotoS3, tmp_path: Path
):
    world = sqlite_site.seed(users=["fay"])
    token = world["users"]["fay"]["token"]
    local = sqlite_site.daphne()
    uploads = [upload(local.url, token, photo(colour=(i * 40, 10, 10))).json() for i in range(3)]
    me = httpx.patch(
        f"{local.url}/api/v1/me/",
        headers=auth(token),
        files={"avatar": ("a.png", photo((300, 300)), "image/png")},
        timeout=30,
    )
    assert me.status_code == 200
    local.stop()
    media = Path(sqlite_site.env["MEDIA_ROOT"])
    files = {str(p.relative_to(media)): p.read_bytes() for p in media.rglob("*") if p.is_file()}
    assert len(files) == 3 * 2 + 1
    env = {**sqlite_site.env, **s3.env()}

    first = manage(env, "media_to_s3")
    second = manage(env, "media_to_s3")

    assert first.returncode == 0, first.stderr
    assert "Copied 7 files" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "Copied 0 files to the bucket; 7 were already there" in second.stdout
    assert s3.object_keys() == set(files)  # nothing lost, nothing twice
    for key, content in files.items():
        assert s3.read(key) == content
    assert {p for p in media.rglob("*") if p.is_file()}  # the local copy stays

    # The same database now serves its old uploads from the bucket.
    moved = sqlite_site.daphne(**s3.env())
    for item in uploads:
        fetched = httpx.get(
            moved.url + item["url"], headers=auth(token), follow_redirects=True, timeout=30
        )
        assert fetched.status_code == 200
        assert fetched.content == files[s3_key_of(fetched.url)]


def s3_key_of(url: httpx.URL) -> str:
    """The object key of a path-style presigned URL: /<bucket>/<key>."""
    return url.path.split("/", 2)[2]


def test_without_redirects_the_server_proxies_the_bytes_from_the_bucket(s3_site: Site, s3: MotoS3):
    world = s3_site.seed(users=["gil"])
    token = world["users"]["gil"]["token"]
    server = s3_site.daphne(MEDIA_S3_REDIRECT="False")
    created = upload(server.url, token, photo((500, 400))).json()

    fetched = httpx.get(server.url + created["url"], headers=auth(token), timeout=30)

    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/jpeg"
    assert fetched.headers["cache-control"].startswith("private")
    key = next(k for k in s3.object_keys() if s3.read(k) == fetched.content)
    assert key.startswith("uploads/")
    again = httpx.get(
        server.url + created["url"],
        headers={**auth(token), "If-None-Match": fetched.headers["etag"]},
        timeout=30,
    )
    assert again.status_code == 304


def backdate_upload(env: dict[str, str], upload_id: int, hours: float) -> None:
    code = (
        "from datetime import timedelta; from django.utils import timezone; "
        "from chat.models import Upload; "
        f"assert Upload.objects.filter(pk={upload_id}).update("
        f"created_at=timezone.now() - timedelta(hours={hours})) == 1"
    )
    done = manage(env, "shell", "-c", code)
    assert done.returncode == 0, done.stderr


def test_orphans_are_removed_from_the_bucket_by_media_cleanup(sqlite_site: Site, tmp_path: Path):
    # Every object this server stores is dated two days back, as files are on a disk
    # that has been running a while; the rows' own ages decide what is unsent.
    s3 = MotoS3(tmp_path / "moto.log", age_hours=48).start()
    try:
        env = {**sqlite_site.env, **s3.env()}
        world = sqlite_site.seed(users=["hal", "ivy"], friends=[["hal", "ivy"]])
        token = world["users"]["hal"]["token"]
        server = sqlite_site.daphne(**s3.env())
        sent, unsent_old, unsent_young = (
            upload(server.url, token, photo(colour=(i * 60, 20, 20))).json() for i in range(3)
        )
        message = httpx.post(
            f"{server.url}/api/v1/conversations/{world['direct']['hal:ivy']}/messages/",
            headers=auth(token),
            json={"id": "m-1", "kind": "image", "attachment": sent["id"]},
            timeout=30,
        )
        assert message.status_code == 201, message.text
        backdate_upload(env, unsent_old["id"], hours=30)
        everything = s3.object_keys()
        assert len(everything) == 6
        stray = {"uploads/left-behind.jpg", "group-avatars/replaced.png"}
        for key in stray:  # e.g. deletions that failed while the bucket was away
            s3.client().put_object(Bucket="happychat-media", Key=key, Body=b"old bytes")

        dry = manage(env, "media_cleanup", "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert "Would delete 1 unsent uploads and 2 unreferenced files" in dry.stdout
        assert s3.object_keys() == everything | stray

        done = manage(env, "media_cleanup")
        assert done.returncode == 0, done.stderr
        assert "Deleted 1 unsent uploads and 2 unreferenced files" in done.stdout

        # The unsent upload's image and thumbnail, and the strays, are gone; the rest stays.
        gone = everything - s3.object_keys()
        assert len(gone) == 2
        assert all(key.startswith("uploads/") for key in gone)
        assert not stray & s3.object_keys()
        for item, status in ((sent, 200), (unsent_young, 200), (unsent_old, 404)):
            fetched = httpx.get(
                server.url + item["url"], headers=auth(token), follow_redirects=True, timeout=30
            )
            assert fetched.status_code == status, item
        again = manage(env, "media_cleanup")
        assert "Deleted 0 unsent uploads and 0 unreferenced files" in again.stdout
    finally:
        s3.stop()


def test_backup_export_and_restore_read_and_write_the_bucket(
    sqlite_site: Site, sqlite_template: Path, s3: MotoS3, tmp_path: Path
):
    world = sqlite_site.seed(users=["jo"])
    token = world["users"]["jo"]["token"]
    server = sqlite_site.daphne(**s3.env())
    created = upload(server.url, token, photo()).json()
    avatar = httpx.post(
        f"{server.url}/api/v1/me/avatar/",
        headers=auth(token),
        files={"file": ("a.png", photo((300, 300)), "image/png")},
        timeout=30,
    )
    assert avatar.status_code == 200, avatar.text
    env = {**sqlite_site.env, **s3.env()}
    objects = {key: s3.read(key) for key in s3.object_keys()}
    assert len(objects) == 3
    assert not Path(env["MEDIA_ROOT"]).exists() or not any(Path(env["MEDIA_ROOT"]).rglob("*.*"))

    # The user's own export (GET me/export/) carries the files, read from the bucket.
    export = httpx.get(f"{server.url}/api/v1/me/export/", headers=auth(token), timeout=60)
    assert export.status_code == 200, export.text
    with zipfile.ZipFile(io.BytesIO(export.content)) as zf:
        exported = {name: zf.read(name) for name in zf.namelist() if name.startswith("files/")}
        assert json.loads(zf.read("manifest.json"))["missing_files"] == []
    in_zip = {
        name.removeprefix("files/uploads/"): content
        for name, content in exported.items()
        if name.startswith("files/uploads/")
    }
    by_name = {PurePosixPath(key).name: content for key, content in objects.items()}
    ((image_name, image),) = in_zip.items()
    assert by_name[image_name] == image
    assert any(name.startswith("files/avatar") for name in exported)

    # The backup copies every referenced object into the archive.
    archive = tmp_path / "backup.tar"
    made = manage(env, "backup", "--out", str(archive))
    assert made.returncode == 0, made.stderr
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        backed_up = {
            m.name.removeprefix("media/"): tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar
            if m.name.startswith("media/")
        }
    assert backed_up == objects
    assert manifest["media"]["missing"] == []

    # Restored into an empty site with an empty bucket, the files are back in the bucket
    # and served again.
    server.stop()
    fresh = MotoS3(tmp_path / "moto-restore.log").start()
    try:
        db = tmp_path / "restored.sqlite3"
        shutil.copyfile(sqlite_template, db)
        restored_env = {**env, **fresh.env(), "DATABASE_URL": f"sqlite:///{db}"}
        restored = manage(restored_env, "restore", str(archive))
        assert restored.returncode == 0, restored.stderr
        assert {key: fresh.read(key) for key in fresh.object_keys()} == objects
        site = Site(restored_env, tmp_path / "restored")
        site.workdir.mkdir()
        try:
            again = site.daphne()
            fetched = httpx.get(
                again.url + created["url"], headers=auth(token), follow_redirects=True, timeout=30
            )
            assert fetched.status_code == 200
            assert fetched.content == image
        finally:
            site.close()
    finally:
        fresh.stop()
