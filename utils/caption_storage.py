"""Where Agora's caption files are: a bucket, read and written through one small interface.

Two backends: a folder (the sandbox's embedded "bucket" in the instance directory) and S3
through boto3, which also reaches S3-compatible servers (vendor 11: MinIO, Ceph...) and
Google Cloud Storage through its S3 interoperability endpoint (vendor 6, HMAC keys). The
sandbox writes and the transcript API reads through the same object, so both see one bucket.
"""

from __future__ import annotations

import logging
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

# Agora's storage region codes for Amazon S3 (docs/agora.md, "Caption storage").
S3_REGIONS = {
    0: "us-east-1",
    1: "us-east-2",
    2: "us-west-1",
    3: "us-west-2",
    4: "eu-west-1",
    5: "eu-west-2",
    6: "eu-west-3",
    7: "eu-central-1",
    8: "ap-southeast-1",
    9: "ap-southeast-2",
    10: "ap-northeast-1",
    11: "ap-northeast-2",
    12: "sa-east-1",
    13: "ca-central-1",
    14: "ap-south-1",
    15: "cn-north-1",
    16: "cn-northwest-1",
    17: "us-gov-west-1",
    20: "ap-northeast-3",
    21: "eu-north-1",
    22: "me-south-1",
    23: "us-gov-east-1",
    24: "ap-southeast-3",
    25: "eu-south-1",
    28: "il-central-1",
}
GOOGLE_S3_ENDPOINT = "https://storage.googleapis.com"  # Cloud Storage's XML API speaks S3 with HMAC keys
VENDOR_NAMES = {
    1: "Amazon S3",
    2: "Alibaba Cloud OSS",
    3: "Tencent Cloud COS",
    5: "Microsoft Azure Blob Storage",
    6: "Google Cloud Storage",
    7: "Huawei Cloud OBS",
    8: "Baidu AI Cloud BOS",
    11: "S3-compatible storage",
}
CONNECT_TIMEOUT = 3.05
READ_TIMEOUT = 10.0


class StorageError(Exception):
    """The storage failed or refused: `reason` is the vendor's own words (never a key)."""

    def __init__(self, vendor: str, reason: str) -> None:
        super().__init__(f"{vendor}: {reason}")
        self.vendor, self.reason = vendor, reason


class UnreadableStorage(Exception):
    """A vendor the service records to but cannot read back (Azure has no S3 interface)."""

    def __init__(self, vendor: str) -> None:
        super().__init__(vendor)
        self.vendor = vendor


class CaptionStorage(ABC):
    vendor: str  # for people: "Amazon S3", "the sandbox's folder", ...

    @abstractmethod
    def keys(self, prefix: str) -> Iterator[str]:
        """Every object key that starts with `prefix`, in any order, page by page."""

    @abstractmethod
    def read(self, key: str) -> bytes | None:
        """The object, or None when it is not there (yet)."""

    @abstractmethod
    def write(self, key: str, data: bytes, content_type: str) -> None:
        """Create or overwrite the object."""

    @abstractmethod
    def delete(self, keys: Iterable[str]) -> int:
        """Remove the objects; how many were removed."""


class FolderStorage(CaptionStorage):
    """Objects as files under `root`; keys are paths relative to it, with "/"."""

    vendor = "the sandbox's caption folder"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise StorageError(self.vendor, f"key {key!r} leaves the bucket")
        return path

    def keys(self, prefix: str) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in self.root.rglob("*"):
            if path.is_file():
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix) and not key.endswith(".tmp"):
                    yield key

    def read(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(self.vendor, exc.strerror or str(exc)) from None

    def write(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        # Whole files only: a reader in another worker never sees half a playlist.
        partial = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(data)
            partial.replace(path)
        except OSError as exc:
            raise StorageError(self.vendor, exc.strerror or str(exc)) from None

    def delete(self, keys: Iterable[str]) -> int:
        removed = 0
        for key in keys:
            try:
                self._path(key).unlink()
                removed += 1
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise StorageError(self.vendor, exc.strerror or str(exc)) from None
        return removed


class S3Storage(CaptionStorage):
    """One bucket through boto3: Amazon S3, an S3-compatible endpoint, or Google's interoperability API."""

    def __init__(
        self,
        vendor: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        *,
        region: str = "us-east-1",
        endpoint: str | None = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.vendor, self.bucket = vendor, bucket
        # botocore's debug lines carry the signed headers, access key id included: never below INFO.
        # (urllib3's own lines name only the method and path, which hold no key.)
        for name in ("botocore", "boto3"):
            logger = logging.getLogger(name)
            logger.setLevel(max(logger.getEffectiveLevel(), logging.INFO))
        self.client = boto3.session.Session().client(
            "s3",
            region_name=region,
            endpoint_url=endpoint,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(
                connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT,
                retries={"max_attempts": 3, "mode": "standard"},
                # Self-hosted servers rarely have a DNS name per bucket: path style works everywhere.
                s3={"addressing_style": "path" if endpoint else "auto"},
            ),
        )

    def _call(self, method: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if method == "get_object" and (error.get("Code") in ("NoSuchKey", "404") or status == 404):
                return None
            reason = f"{error.get('Code', status)}: {error.get('Message', '')}".strip()
            raise StorageError(self.vendor, reason) from None
        except BotoCoreError as exc:
            # Its messages name the endpoint and the operation, never the credentials.
            raise StorageError(self.vendor, f"{type(exc).__name__}: {exc}") from None

    def keys(self, prefix: str) -> Iterator[str]:
        token: str | None = None
        while True:
            page = self._call("list_objects_v2", Prefix=prefix, **({"ContinuationToken": token} if token else {}))
            for item in page.get("Contents") or []:
                yield item["Key"]
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    def read(self, key: str) -> bytes | None:
        answer = self._call("get_object", Key=key)
        if answer is None:
            return None
        from botocore.exceptions import BotoCoreError

        try:
            return answer["Body"].read()
        except BotoCoreError as exc:
            raise StorageError(self.vendor, f"{type(exc).__name__}: {exc}") from None

    def write(self, key: str, data: bytes, content_type: str) -> None:
        self._call("put_object", Key=key, Body=data, ContentType=content_type)

    def delete(self, keys: Iterable[str]) -> int:
        removed = 0
        batch = list(keys)
        for start in range(0, len(batch), 1000):  # S3's most per DeleteObjects call
            chunk = batch[start : start + 1000]
            answer = self._call("delete_objects", Delete={"Objects": [{"Key": key} for key in chunk], "Quiet": False})
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise StorageError(self.vendor, f"{first.get('Code')}: {first.get('Message', '')}")
            removed += len(answer.get("Deleted") or [])
        return removed


def open_caption_storage(storage: Mapping[str, Any] | None, local_root: str | None = None) -> CaptionStorage:
    """The bucket a captionConfig names (the settings' CAPTION_STORAGE, or a join's), to read or write.

    `local_root`: the sandbox's folder, used when the config is the sandbox's own stand-in.
    Raises UnreadableStorage for a vendor without an S3 interface, ValueError without a config.
    """
    if local_root is not None:
        return FolderStorage(local_root)
    if not storage:
        raise ValueError("no caption storage is configured")
    place = storage["storage"]
    vendor = int(place["vendor"])
    name = VENDOR_NAMES.get(vendor, f"vendor {vendor}")
    # The reference spells accesskey/secretkey, its examples accessKey/secretKey: take both.
    keys = (place.get("accessKey", place.get("accesskey")), place.get("secretKey", place.get("secretkey")))
    if vendor == 1:
        region = S3_REGIONS.get(int(place.get("region") or 0), "us-east-1")
        return S3Storage(name, place["bucket"], *keys, region=region)
    if vendor == 11:
        extension = storage.get("extensionParams") or {}
        return S3Storage(
            name, place["bucket"], *keys, region=extension.get("region") or "us-east-1", endpoint=extension["endpoint"]
        )
    if vendor == 6:
        return S3Storage(name, place["bucket"], *keys, region="auto", endpoint=GOOGLE_S3_ENDPOINT)
    raise UnreadableStorage(f"{name} (vendor {vendor})")
