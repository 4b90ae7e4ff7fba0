"""The emulator verifies both bots' tokens in both formats, and refuses a bad 007 as Agora would."""

import pytest

from sandbox.emulator import create_emulator
from sandbox.store import SandboxStore
from tests.sandbox.test_emulator import APP_ID, AUTH, BASE, CERT, join_body
from tests.sandbox.test_token007 import LIFETIME, pack
from utils.generate_token import generate_token


@pytest.fixture
def agora(tmp_path):
    store = SandboxStore(str(tmp_path / "emulator.sqlite3"))
    app = create_emulator(store, app_id=APP_ID, app_certificate=CERT, customer_id="cid", customer_secret="csecret")
    return app.test_client()


def bot_token(uid, version, channel="demo", role="publisher"):
    return generate_token(APP_ID, CERT, channel, uid, role, LIFETIME, version=version).token


def join_with(agora, pub_token, sub_token, name="task-1"):
    body = join_body(name=name)
    body["rtcConfig"].update(pubBotToken=pub_token, subBotToken=sub_token)
    return agora.post(f"{BASE}/join", json=body, headers=AUTH)


@pytest.mark.parametrize("pub_version", ["007", "006"])
@pytest.mark.parametrize("sub_version", ["007", "006"])
def test_both_bots_tokens_are_accepted_in_either_format(agora, pub_version, sub_version):
    response = join_with(agora, bot_token(4000000001, pub_version), bot_token(4000000002, sub_version))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "STARTING"


@pytest.mark.parametrize(
    ("bot", "token", "detail"),
    [
        ("pubBotToken", bot_token(4000000002, "007"), "another channel or uid"),  # the other bot's
        ("pubBotToken", bot_token(4000000001, "007", channel="other"), "another channel or uid"),
        ("pubBotToken", bot_token(4000000001, "007", role="subscriber"), "lacks the data privilege"),
        (
            "pubBotToken",
            pack(rtc=("demo", "4000000001", {1: LIFETIME, 4: LIFETIME}), cert="0" * 32),
            "signature does not match",
        ),
        (
            "pubBotToken",
            pack(rtc=("demo", "4000000001", {1: LIFETIME, 4: LIFETIME}), app_id="f" * 32),
            "another App ID",
        ),
        ("subBotToken", pack(rtc=("demo", "4000000002", {1: LIFETIME}), issue_ts=1111111), "token has expired"),
        ("subBotToken", pack(rtc=("demo", "4000000002", {1: 0}), expire=LIFETIME), "no explicit lifetime"),
        ("subBotToken", pack(rtc=("demo", "4000000002", {1: LIFETIME}))[:-6], "not base64 of a zlib stream"),
        ("subBotToken", "008" + pack()[3:], "neither 007 nor 006"),
    ],
)
def test_a_bad_007_bot_token_is_refused_naming_the_bot(agora, bot, token, detail):
    tokens = {"pubBotToken": bot_token(4000000001, "007"), "subBotToken": bot_token(4000000002, "007"), bot: token}
    response = join_with(agora, tokens["pubBotToken"], tokens["subBotToken"])
    assert response.status_code == 400
    body = response.get_json()
    assert body["reason"] == "InvalidToken"
    assert body["detail"].startswith(f"rtcConfig.{bot}: ")
    assert detail in body["detail"]
