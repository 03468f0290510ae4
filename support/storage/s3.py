"""An S3-compatible bucket (AWS, MinIO, Ceph): keys ``[prefix/]<area>/<aa>/<sha256>``.

The bucket stays private: nothing here makes a public or presigned URL; the app streams
files through its own authorised routes. Every write is one whole-object PUT, which S3
makes visible all at once or not at all, carrying the body's MD5 and SHA-256 so the server
refuses bytes damaged on the way; reads ask for the stored checksum back and botocore
refuses a body that does not match it.
"""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timezone
from typing import Callable, ContextManager, Iterator, Mapping

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from . import AREAS, CHUNK_BYTES, Entry, check, valid_name

#: the error codes S3 servers answer for a key or bucket that is not there
MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Storage:
    """Files in a bucket shared by every machine of the desk."""

    def __init__(self, bucket: str, prefix: str = "", *, client, lock: Callable[[], ContextManager[None]]):
        self.bucket = bucket
        self._prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self._client = client
        self._lock = lock

    @classmethod
    def from_config(cls, bucket: str, prefix: str, *, config: Mapping, lock) -> "S3Storage":
        """A client from ``S3_ENDPOINT_URL``, ``AWS_REGION`` and the ``AWS_*`` keys (boto3's own
        chain of credentials when those are unset)."""
        if lock is None:
            raise ValueError("a bucket needs the lock of the desk's database (locks.for_app)")
        client = boto3.session.Session().client(
            "s3", endpoint_url=config.get("S3_ENDPOINT_URL") or None, region_name=config.get("AWS_REGION") or None,
            aws_access_key_id=config.get("AWS_ACCESS_KEY_ID") or None,
            aws_secret_access_key=config.get("AWS_SECRET_ACCESS_KEY") or None,
            config=Config(retries={"mode": "standard"}, response_checksum_validation="when_supported",
                          s3={"addressing_style": "path"} if config.get("S3_ENDPOINT_URL") else None))
        return cls(bucket, prefix, client=client, lock=lock)

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self._prefix}".rstrip("/")

    def _key(self, area: str, name: str) -> str:
        check(area, name)
        return f"{self._prefix}{area}/{name[:2]}/{name}"

    def store(self, area: str, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.exists(area, sha256):
            self.put(area, sha256, data)
        return sha256

    def put(self, area: str, name: str, data: bytes) -> None:
        self._client.put_object(
            Bucket=self.bucket, Key=self._key(area, name), Body=data,
            ContentMD5=base64.b64encode(hashlib.md5(data).digest()).decode(),  # noqa: S324 - S3's own integrity check
            ChecksumSHA256=base64.b64encode(hashlib.sha256(data).digest()).decode())

    def open(self, area: str, name: str) -> bytes:
        with self._get(area, name) as body:
            return body.read()

    def chunks(self, area: str, name: str) -> Iterator[bytes]:
        return _pieces(self._get(area, name))

    def _get(self, area: str, name: str):
        """The object's streaming body; ``FileNotFoundError`` when there is none."""
        try:
            return self._client.get_object(Bucket=self.bucket, Key=self._key(area, name), ChecksumMode="ENABLED")["Body"]
        except ClientError as error:
            if _missing(error):
                raise FileNotFoundError(f"{area}/{name}") from None
            raise

    def exists(self, area: str, name: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(area, name))
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    def delete(self, area: str, name: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self._key(area, name))

    def touch(self, area: str, name: str) -> bool:
        """Copy the object onto itself (new metadata), which is how S3 renews ``LastModified``."""
        key = self._key(area, name)
        try:
            self._client.copy_object(
                Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": key},
                MetadataDirective="REPLACE", Metadata={"in-use": datetime.now(timezone.utc).isoformat()},
                ChecksumAlgorithm="SHA256")
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    def entries(self, area: str) -> Iterator[Entry]:
        if area not in AREAS:
            raise ValueError("unknown storage area")
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"{self._prefix}{area}/")
        for page in pages:
            for item in page.get("Contents", ()):
                name = item["Key"].rsplit("/", 1)[-1]
                if valid_name(name):
                    yield Entry(name, item["LastModified"].astimezone(timezone.utc))

    def remove_incomplete(self, before: datetime) -> int:
        """Nothing to remove: a PUT leaves the whole object or none."""
        return 0

    def locked(self) -> ContextManager[None]:
        return self._lock()


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in MISSING


def _pieces(body) -> Iterator[bytes]:
    with body:
        yield from body.iter_chunks(CHUNK_BYTES)
