"""NCS signatures on Agora's published vectors (docs/agora.md, "Notifications"), and every way to fail."""

import hashlib
import hmac
import json

import pytest

from utils.ncs_signature import V1_HEADER, V2_HEADER, SignatureError, sign, verify

SECRET = "secret"
WITH_EVENT_MS = (
    b'{"eventMs":1560408533119,"eventType":10,"noticeId":"4eb720f0-8da7-11e9-a43e-53f411c2761f",'
    b'"notifyMs":1560408533119,"payload":{"a":"1","b":2},"productId":1}'
)
WITHOUT_EVENT_MS = (
    b'{"eventType":10,"noticeId":"4eb720f0-8da7-11e9-a43e-53f411c2761f",'
    b'"notifyMs":1560408533119,"payload":{"a":"1","b":2},"productId":1}'
)
VECTORS = [
    (
        WITH_EVENT_MS,
        "033c62f40f687675f17f0f41f91a40c71c0f134c",
        "6d3320c60b11101395b7fc8f9068748808a0aa1bfa064438e39d1bc2c7d74d99",
    ),
    (
        WITHOUT_EVENT_MS,
        "5a3bb6a6d9fad2ea9ae3fb707a14c9d7f3136df1",
        "de96da5acf03b0021ac3b4fa2225e7ae6f3533a30d50bb02c08ea4fa748bda24",
    ),
]


@pytest.mark.parametrize(("body", "sha1", "sha256"), VECTORS)
def test_the_published_vectors(body, sha1, sha256):
    assert sign(body, SECRET, V1_HEADER) == sha1
    assert sign(body, SECRET, V2_HEADER) == sha256
    assert verify(body, SECRET, v2=sha256, v1=None) == V2_HEADER
    assert verify(body, SECRET, v2=None, v1=sha1) == V1_HEADER
    assert verify(body, SECRET, v2=sha256.upper(), v1=None) == V2_HEADER  # hex in either case


def test_the_snippets_pairing_vector_one_with_the_short_body_do_not_verify():
    with pytest.raises(SignatureError):
        verify(WITHOUT_EVENT_MS, SECRET, v2=VECTORS[0][2], v1=None)


def test_v2_is_checked_when_present_even_beside_a_good_v1():
    body, sha1, _sha256 = VECTORS[0]
    with pytest.raises(SignatureError, match=V2_HEADER):
        verify(body, SECRET, v2="00" * 32, v1=sha1)


@pytest.mark.parametrize(
    ("v2", "v1"),
    [
        (None, None),
        ("", None),
        (None, "  "),
        (VECTORS[0][1], None),  # a SHA1 signature in the SHA256 header
        (None, VECTORS[0][2]),  # a SHA256 signature in the SHA1 header
        (hmac.new(b"other", WITH_EVENT_MS, hashlib.sha256).hexdigest(), None),  # another secret
        (VECTORS[0][2][:-1], None),  # cut short
        ("é" * 64, None),  # not hex at all
    ],
)
def test_missing_wrong_and_wrong_algorithm_signatures_fail(v2, v1):
    with pytest.raises(SignatureError):
        verify(WITH_EVENT_MS, SECRET, v2=v2, v1=v1)


def test_a_body_re_serialized_by_a_proxy_fails():
    _body, sha1, sha256 = VECTORS[0]
    same_object = json.loads(WITH_EVENT_MS)
    for reserialized in (
        json.dumps(same_object).encode(),  # spaces after separators
        json.dumps(same_object, separators=(",", ":"), sort_keys=False).encode() + b"\n",
        json.dumps(dict(reversed(same_object.items())), separators=(",", ":")).encode(),
    ):
        assert json.loads(reserialized) == same_object
        with pytest.raises(SignatureError):
            verify(reserialized, SECRET, v2=sha256, v1=None)
        with pytest.raises(SignatureError):
            verify(reserialized, SECRET, v2=None, v1=sha1)


def test_the_error_never_carries_the_expected_signature():
    with pytest.raises(SignatureError) as caught:
        verify(WITH_EVENT_MS, SECRET, v2="ab" * 32, v1=None)
    assert VECTORS[0][2] not in str(caught.value)
