"""Which bucket a captionConfig names, for each of Agora's storage vendors."""

import pytest

from utils.caption_storage import FolderStorage, S3Storage, UnreadableStorage, open_caption_storage


def config(vendor, region=0, **extra):
    storage = {"vendor": vendor, "region": region, "bucket": "b-1", "accessKey": "ak", "secretKey": "sk"}
    return {"sliceDuration": 60, "storage": storage, **extra}


@pytest.mark.parametrize(
    ("caption_config", "endpoint", "region"),
    [
        (config(1, 8), "https://s3.ap-southeast-1.amazonaws.com", "ap-southeast-1"),
        (config(6), "https://storage.googleapis.com", "auto"),
        (
            config(11, extensionParams={"endpoint": "http://minio.local:9000", "type": "s3", "region": "eu-1"}),
            "http://minio.local:9000",
            "eu-1",
        ),
    ],
)
def test_s3_compatible_vendors_open_through_boto3(caption_config, endpoint, region):
    storage = open_caption_storage(caption_config)
    assert isinstance(storage, S3Storage)
    assert (storage.client.meta.endpoint_url, storage.client.meta.region_name, storage.bucket) == (
        endpoint,
        region,
        "b-1",
    )


@pytest.mark.parametrize(
    ("vendor", "name"), [(5, "Microsoft Azure Blob Storage (vendor 5)"), (2, "Alibaba Cloud OSS (vendor 2)")]
)
def test_a_vendor_without_an_s3_interface_is_named(vendor, name):
    with pytest.raises(UnreadableStorage) as raised:
        open_caption_storage(config(vendor))
    assert raised.value.vendor == name


def test_the_sandbox_folder_stands_in_when_given(tmp_path):
    storage = open_caption_storage(config(1), local_root=tmp_path)
    assert isinstance(storage, FolderStorage)
    storage.write("a/b.vtt", b"WEBVTT\n", "text/vtt")
    assert (list(storage.keys("a/")), storage.read("a/b.vtt"), storage.read("a/c.vtt")) == (
        ["a/b.vtt"],
        b"WEBVTT\n",
        None,
    )
    assert storage.delete(["a/b.vtt", "a/c.vtt"]) == 1
