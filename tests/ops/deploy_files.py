"""The deployment files under deploy/, made runnable on this machine for tests.

The committed files name production paths (/srv/happychat, /etc/letsencrypt, ports 80,
443, 8001, 8002). `nginx_site` and `unit_files` rewrite exactly those, failing loudly
if one is no longer in the file, so the tests check the committed configuration itself.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.servers import ROOT

DEPLOY = ROOT / "deploy"
NGINX_CONF = DEPLOY / "nginx" / "happychat.conf"
SYSTEMD = DEPLOY / "systemd"
PROD_ROOT = "/srv/happychat"


def replace_exactly(text: str, old: str, new: str, *, count: int | None = None) -> str:
    found = text.count(old)
    assert found, f"{old!r} is no longer in the file: update the test's rewrite"
    if count is not None:
        assert found == count, f"{old!r} found {found} times, expected {count}"
    return text.replace(old, new)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@dataclass
class NginxSite:
    directory: Path
    main_conf: Path
    http_port: int
    https_port: int

    def command(self, *extra: str) -> list[str]:
        return [
            "nginx",
            "-p",
            str(self.directory),
            "-c",
            str(self.main_conf),
            "-e",
            str(self.directory / "error.log"),
            *extra,
        ]


def nginx_site(
    directory: Path,
    *,
    http_port: int,
    https_port: int,
    upstreams: list[int],
    static_root: Path,
    media_root: Path,
) -> NginxSite:
    """Write deploy/nginx/happychat.conf, rewritten for this machine, and a main nginx.conf."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed_certificate(directory)
    text = NGINX_CONF.read_text()
    text = replace_exactly(text, "    server 127.0.0.1:8001;\n    server 127.0.0.1:8002;\n",
                           "".join(f"    server 127.0.0.1:{p};\n" for p in upstreams))  # fmt: skip
    text = replace_exactly(text, "listen 80;", f"listen 127.0.0.1:{http_port};", count=1)
    text = replace_exactly(text, "listen 443 ssl http2;",
                           f"listen 127.0.0.1:{https_port} ssl http2;", count=1)  # fmt: skip
    # IPv6 may be absent here; the IPv4 lines are the ones under test.
    text = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", text)
    text = replace_exactly(text, "/etc/letsencrypt/live/chat.example.com/fullchain.pem",
                           str(cert))  # fmt: skip
    text = replace_exactly(text, "/etc/letsencrypt/live/chat.example.com/privkey.pem", str(key))
    text = replace_exactly(text, "/var/www/letsencrypt", str(directory / "acme"))
    text = replace_exactly(text, "/var/log/nginx/", f"{directory}/")
    text = replace_exactly(text, f"{PROD_ROOT}/var/static/", f"{static_root}/")
    text = replace_exactly(text, f"{PROD_ROOT}/var/media/", f"{media_root}/")
    text = replace_exactly(text, f"root {PROD_ROOT}/var;", f"root {media_root.parent};")
    assert media_root.name == "media"  # the avatar location serves <root>/media/…
    assert PROD_ROOT not in text
    site_conf = directory / "happychat.conf"
    site_conf.write_text(text)
    temp = directory / "temp"
    temp.mkdir(exist_ok=True)
    # Workers run as root here only because the test's files live in root's private
    # temporary directory; production nginx runs them as www-data.
    user = "user root;\n" if os.geteuid() == 0 else ""
    main_conf = directory / "nginx.conf"
    main_conf.write_text(
        f"""{user}worker_processes 1;
daemon off;
pid {directory}/nginx.pid;
error_log {directory}/error.log;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {directory}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {site_conf};
}}
"""
    )
    return NginxSite(directory, main_conf, http_port, https_port)


def unit_files(directory: Path) -> Path:
    """Copy deploy/systemd/* with /srv/happychat replaced by this checkout."""
    directory.mkdir(parents=True, exist_ok=True)
    for source in sorted(SYSTEMD.iterdir()):
        text = source.read_text()
        (directory / source.name).write_text(text.replace(PROD_ROOT, str(ROOT)))
    return directory


def read_unit(name: str) -> configparser.ConfigParser:
    """A unit file as sections of keys; repeated keys keep their last value."""
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((SYSTEMD / name).read_text())
    return parser


def nginx_available() -> bool:
    return shutil.which("nginx") is not None
