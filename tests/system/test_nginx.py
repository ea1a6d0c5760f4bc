"""deploy/nginx/happychat.conf in front of daphnes started as deploy/systemd starts them.

Two daphne processes on PostgreSQL + Redis, each run with the unit's own ExecStart and
handed its listening socket as file descriptor 3 (what happychat@.socket does), behind a
real nginx running the committed site file (ports, certificate and paths rewritten for
this machine). Through nginx: HTTPS with HTTP/2, the redirect from HTTP, static files from
disk, the API, and `wss://` sockets that deliver across the two processes.
"""

from __future__ import annotations

import os
import shlex
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ops.deploy_files import PROD_ROOT, NginxSite, nginx_site, read_unit
from tests.ops.sitetool import png
from tests.servers import PYTHON, ROOT, Postgres, Redis, free_port, stop_pid, wait_for_port
from tests.system.conftest import Site, base_env, create_pg_database
from tests.system.wsclient import WS


def start_unit_daphne(site: Site, log: Path) -> tuple[subprocess.Popen, int]:
    """Run happychat@.service's ExecStart on a listening socket passed as fd 3."""
    service = read_unit("happychat@.service")["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == f"{PROD_ROOT}/.venv/bin/python"
    argv[0] = PYTHON
    extra = dict(item.split("=", 1) for item in shlex.split(service.get("Environment", "")))
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]

    def socket_as_fd_3() -> None:  # runs in the child before exec, like systemd
        os.dup2(listener.fileno(), 3)

    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**site.env, **extra, "LISTEN_FDS": "1"},
            pass_fds=(3,),
            preexec_fn=socket_as_fd_3,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    listener.close()  # the child holds it now
    return proc, port


def wait_until_serving(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"daphne exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} not serving after {timeout}s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def stack(
    postgres_server: Postgres, redis_server: Redis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Started once for this module: the tests only read and send, never break anything."""
    import redis

    tmp_path = tmp_path_factory.mktemp("nginx-stack")
    redis.Redis.from_url(redis_server.url).flushall()
    site = Site(
        base_env(
            tmp_path,
            DATABASE_URL=create_pg_database(postgres_server),
            REDIS_URL=redis_server.url,
            # As docs/deploy.md suggests: nginx sends upload bytes after Django's check.
            MEDIA_ACCEL_REDIRECT="/_protected_media/",
        ),
        tmp_path,
    )
    world = site.seed(users=["ann", "ben"], friends=[["ann", "ben"]])
    daphnes = [start_unit_daphne(site, tmp_path / f"daphne-{n}.log") for n in range(2)]
    nginx_proc = None
    try:
        for proc, port in daphnes:
            wait_until_serving(f"http://127.0.0.1:{port}/accounts/login/", proc)
        nginx = nginx_site(
            tmp_path / "nginx",
            http_port=free_port(),
            https_port=free_port(),
            upstreams=[port for _, port in daphnes],
            static_root=ROOT / "static",
            media_root=tmp_path / "media",
        )
        nginx_proc = subprocess.Popen(
            nginx.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(nginx.https_port, proc=nginx_proc)
        yield {"site": site, "world": world, "nginx": nginx}
    finally:
        if nginx_proc is not None:
            stop_pid(nginx_proc, sig=3)  # SIGQUIT: graceful shutdown
        for proc, _ in daphnes:
            stop_pid(proc)


def client_tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's self-signed certificate
    return context


def https(nginx: NginxSite) -> str:
    return f"https://127.0.0.1:{nginx.https_port}"


def test_https_speaks_http2_and_http_redirects_to_https(stack):
    nginx: NginxSite = stack["nginx"]
    context = client_tls()
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection(("127.0.0.1", nginx.https_port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"
        assert tls.version() in ("TLSv1.2", "TLSv1.3")

    redirect = httpx.get(f"http://127.0.0.1:{nginx.http_port}/chat/?x=1", timeout=10)
    assert redirect.status_code == 301
    assert redirect.headers["location"] == "https://127.0.0.1/chat/?x=1"


def test_static_files_come_from_disk_and_the_api_from_daphne(stack):
    nginx: NginxSite = stack["nginx"]
    token = stack["world"]["users"]["ann"]["token"]
    with httpx.Client(base_url=https(nginx), verify=client_tls(), timeout=10) as client:
        css = client.get("/static/css/base.css")
        me = client.get("/api/v1/me/", headers={"Authorization": f"Token {token}"})
        internal = client.get("/_protected_media/avatars/x.png")

    assert css.status_code == 200
    assert css.content == (ROOT / "static" / "css" / "base.css").read_bytes()
    assert css.headers["server"].startswith("nginx")
    assert me.status_code == 200
    assert me.json()["username"] == "ann"
    assert internal.status_code == 404  # internal: only X-Accel-Redirect reaches it


def test_uploads_pass_django_access_check_then_nginx_sends_the_bytes(stack):
    nginx: NginxSite = stack["nginx"]
    users = stack["world"]["users"]
    media = stack["site"].workdir / "media"
    (media / "avatars").mkdir(parents=True, exist_ok=True)
    (media / "avatars" / "a1.png").write_bytes(png((1, 2, 3)))
    owner = {"Authorization": f"Token {users['ann']['token']}"}
    stranger = {"Authorization": f"Token {users['ben']['token']}"}
    with httpx.Client(base_url=https(nginx), verify=client_tls(), timeout=30) as client:
        created = client.post(
            "/api/v1/uploads/",
            headers=owner,
            files={"file": ("p.png", png((200, 10, 10), (640, 480)), "image/png")},
        )
        assert created.status_code == 201, created.text
        url = created.json()["url"]
        mine = client.get(url, headers=owner)
        theirs = client.get(url, headers=stranger)
        anonymous = client.get(url)
        avatar = client.get("/media/avatars/a1.png")
        # Not on this disk (as with MEDIA_STORAGE=s3): nginx hands it to Django.
        elsewhere = client.get("/media/avatars/not-on-this-disk.png")

    assert mine.status_code == 200
    stored = list((media / "uploads").rglob("*"))
    assert mine.content in [p.read_bytes() for p in stored if p.is_file()]
    assert "x-accel-redirect" not in mine.headers  # consumed by nginx, never shown
    assert theirs.status_code == 404  # ben is in no conversation where it was sent
    assert anonymous.status_code in (401, 403)
    assert avatar.status_code == 200
    assert avatar.content == (media / "avatars" / "a1.png").read_bytes()
    assert avatar.headers["cache-control"] == "public, max-age=86400"
    # Django answered it (here with an X-Accel-Redirect to a file nginx then does not find;
    # with S3, a redirect to the bucket): nginx's own 404 carries no Content-Disposition.
    assert elsewhere.status_code == 404
    assert elsewhere.headers.get("content-disposition") == "inline"


async def test_wss_sockets_through_nginx_deliver_across_both_processes(stack):
    nginx: NginxSite = stack["nginx"]
    world = stack["world"]
    url = f"wss://127.0.0.1:{nginx.https_port}/ws/chat/"
    conv = world["direct"]["ann:ben"]
    # Round robin over two upstreams: four sockets land on both processes.
    sockets = [
        await WS.open(url, world["users"][name]["token"], ssl=client_tls())
        for name in ("ann", "ben", "ann", "ben")
    ]
    try:
        for n, sender in enumerate(sockets):
            frame = {"type": "send", "id": f"through-nginx-{n}", "conversation": conv,
                     "kind": "text", "body": f"hello {n}"}  # fmt: skip
            ack = await sender.request(frame, "ack")
            for other in sockets:
                if other is not sender:
                    got = await other.expect(
                        "message", where=lambda f, a=ack: f["message"]["id"] == a["message"]["id"]
                    )
                    assert got["message"]["body"] == f"hello {n}"
    finally:
        for ws in sockets:
            await ws.close()
