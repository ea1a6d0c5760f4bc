"""An S3-compatible server for system tests: moto's server mode on a free loopback port."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.servers import PYTHON, ROOT, free_port, stop_pid, wait_for_port

BUCKET = "happychat-media"
REGION = "us-east-1"
KEY_ID = "test-access-key"
SECRET = "test-secret-key"


class MotoS3:
    """`python -m moto.server` with one private bucket; stop() is an outage (state is lost
    when the process ends, so a test that stops it is over with the bucket).

    With `age_hours`, every object the server stores is dated that many hours in the past
    (its LastModified), as `os.utime` does for files on the local disk: what the orphan
    clean-up reads to leave young files alone.
    """

    def __init__(self, log_path: Path, port: int | None = None, age_hours: float = 0) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.age_hours = age_hours
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The settings that point HappyChat at this bucket (docs/deploy.md's names)."""
        return {
            "MEDIA_STORAGE": "s3",
            "AWS_STORAGE_BUCKET_NAME": BUCKET,
            "AWS_S3_ENDPOINT_URL": self.url,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_ACCESS_KEY_ID": KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "MEDIA_S3_CONNECT_TIMEOUT": "1",
            "MEDIA_S3_READ_TIMEOUT": "5",
        }

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET,
        )

    def start(self) -> MotoS3:
        log = self.log_path.open("ab")
        address = ["-H", "127.0.0.1", "-p", str(self.port)]
        command = (
            [PYTHON, "-m", "tests.system.s3", str(self.age_hours), *address]
            if self.age_hours
            else [PYTHON, "-m", "moto.server", *address]
        )
        self.proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, proc=self.proc)
        self.client().create_bucket(Bucket=BUCKET)
        return self

    def object_keys(self) -> set[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def read(self, key: str) -> bytes:
        return self.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def stop(self) -> None:
        if self.proc is not None:
            stop_pid(self.proc)
            self.proc = None


def serve_aged(age_hours: float, argv: list[str]) -> None:
    """moto's server, dating every S3 object it stores `age_hours` in the past."""
    from datetime import timedelta

    import moto.s3.models
    from moto.server import main

    now = moto.s3.models.utcnow
    moto.s3.models.utcnow = lambda: now() - timedelta(hours=age_hours)
    main(argv)


if __name__ == "__main__":
    serve_aged(float(sys.argv[1]), sys.argv[2:])
