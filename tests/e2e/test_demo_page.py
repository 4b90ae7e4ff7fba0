"""The demo page in a real headless Chromium, against the service under gunicorn in sandbox mode."""

import importlib
import re
import subprocess
import sys
import time
import uuid

import pytest
import requests

from api.validation import CHANNEL
from sandbox.SttMessage_pb2 import OriginalTranscript, Text, Translation, Word
from tests.e2e.conftest import open_demo_page
from tests.servers import ROOT
from utils.generate_resource import BOT_UID_MIN

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1100, "height": 800})

    def report_console_errors(opened):
        opened.on("console", lambda message: message.type == "error" and opened.problems.append(message.text))

    yield open_demo_page(context, server.url, report_console_errors)
    context.close()


def join(page, channel=None, uid="1234"):
    # A channel of its own per test: one agent per channel, so a task left running elsewhere
    # would be answered instead of started.
    page.get_by_test_id("channel").fill(channel or f"demo-{uuid.uuid4().hex[:8]}")
    page.get_by_test_id("uid").fill(uid)
    page.get_by_test_id("join").click()
    page.get_by_test_id("status").filter(has_text="In channel").wait_for()


def start(page):
    with page.expect_response("**/api/rtt/start.json") as answer:
        page.get_by_test_id("start-captions").click()
    return answer.value


def finals(page):
    return page.locator('[data-testid="captions"] .caption[data-final="true"]')


def test_join_start_watch_stop(page, server):
    ARTIFACTS.mkdir(exist_ok=True)
    join(page)
    assert page.get_by_test_id("start-captions").is_enabled()
    assert page.get_by_test_id("stop-captions").is_disabled()

    task = start(page).json()
    assert page.get_by_test_id("start-captions").is_disabled()  # no double start
    # Interim text shows first, then the final line replaces it.
    page.locator('[data-testid="captions"] .caption[data-final="false"]').first.wait_for(timeout=5000)
    page.screenshot(path=ARTIFACTS / "demo-interim.png")
    page.wait_for_function(
        """() => new Set([...document.querySelectorAll('[data-testid="captions"] .caption[data-final="true"]')]
                 .map((line) => line.dataset.speaker)).size >= 2""",
        timeout=10_000,
    )
    lines = finals(page).all()
    assert len({line.get_attribute("data-speaker") for line in lines}) >= 2
    first = lines[0].inner_text()
    assert "Speaker 1001" in first and "Hi everyone, thanks for joining the call." in first
    # The bots joined the channel, but they are not shown as people.
    people = [
        int(uid)
        for uid in page.get_by_test_id("participants")
        .locator("li")
        .evaluate_all("items => items.map((item) => item.dataset.uid)")
    ]
    assert 1234 in people
    assert task["pubBotUid"] not in people and task["subBotUid"] not in people
    assert all(uid < BOT_UID_MIN for uid in people)
    page.screenshot(path=ARTIFACTS / "demo-captions.png", full_page=True)

    with page.expect_response("**/api/rtt/stop.json") as stopped:
        page.get_by_test_id("stop-captions").click()
    assert stopped.value.status == 200
    page.get_by_test_id("status").filter(has_text="Captions stopped.").wait_for()
    count = finals(page).count()
    page.wait_for_timeout(2500)
    assert finals(page).count() == count  # nothing arrives after stop
    assert page.locator('[data-testid="captions"] .caption[data-final="false"]').count() == 0
    assert page.get_by_test_id("start-captions").is_enabled()
    query = requests.post(f"{server.url}/api/rtt/query.json", json={"taskId": task["taskId"]}, timeout=5).json()
    assert query["status"] == "STOPPED"
    assert page.problems == []


def test_api_failures_are_shown_in_words(page, server):
    join(page)
    requests.post(f"{server.url}/sandbox/faults", json={"op": "join", "status": 503}, timeout=5)
    assert start(page).status == 502
    error = page.get_by_test_id("error")
    error.wait_for()
    assert "Could not start captions: Agora's API is unavailable" in error.inner_text()
    assert "(agora_unavailable)" in error.inner_text()
    assert page.get_by_test_id("start-captions").is_enabled()  # and it can be tried again
    assert start(page).status == 200
    assert error.is_hidden()


def test_bad_input_is_explained(page):
    page.get_by_test_id("channel").fill("no/slashes")
    page.get_by_test_id("uid").fill("5")
    page.get_by_test_id("channel").evaluate("input => input.form.noValidate = true")  # let the server judge
    page.get_by_test_id("join").click()
    error = page.get_by_test_id("error")
    error.wait_for()
    assert "channel must be 1-64 characters" in error.inner_text()
    assert page.get_by_test_id("join").is_enabled()


def test_closing_the_page_stops_the_task(browser, server):
    context = browser.new_context()
    opened = context.new_page()
    opened.goto(server.url)
    opened.get_by_test_id("status").filter(has_text="Not in a call.").wait_for()
    join(opened, channel="closing")
    task = start(opened).json()
    opened.get_by_test_id("status").filter(has_text="Captions on").wait_for()
    opened.close(run_before_unload=True)
    context.close()
    for _ in range(50):
        status = requests.post(f"{server.url}/api/rtt/query.json", json={"taskId": task["taskId"]}, timeout=5)
        if status.json()["status"] == "STOPPED":
            break
        time.sleep(0.1)
    assert status.json()["status"] == "STOPPED"


def test_the_browser_reads_the_channel_pattern_as_the_validator_does(page):
    """Browsers compile `pattern` with the `v` flag, which is stricter about escapes than Python."""
    accepted = page.get_by_test_id("channel").evaluate(
        """(input) => [...Array(128).keys()].filter((code) => {
               input.value = String.fromCharCode(code);
               return input.checkValidity();
           })"""
    )
    expected = [code for code in range(128) if re.fullmatch(CHANNEL, chr(code))]
    assert accepted == expected


def test_readable_on_a_phone(browser, server):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    phone = context.new_page()
    phone.goto(server.url)
    phone.get_by_test_id("status").filter(has_text="Not in a call.").wait_for()
    join(phone, channel="phone")
    start(phone)
    phone.wait_for_function(
        """() => document.querySelectorAll('[data-testid="captions"] .caption[data-final="true"]').length >= 2""",
        timeout=10_000,
    )
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # no sideways scrolling
    for name in ("Channel", "Your uid", "Spoken language"):
        assert phone.get_by_label(name).is_visible()
    assert phone.get_by_role("log").get_attribute("aria-live") == "polite"
    phone.screenshot(path=ARTIFACTS / "demo-phone.png", full_page=True)
    phone.get_by_test_id("stop-captions").click()
    phone.get_by_test_id("status").filter(has_text="Captions stopped.").wait_for()
    context.close()


# ---- the decoder, on bytes from Python's protobuf -------------------------------------------


@pytest.fixture(scope="module")
def legacy_pb2(tmp_path_factory):
    """Python classes for the 2024-08 layout, generated from its .proto with grpcio-tools."""
    out = tmp_path_factory.mktemp("legacy")
    fixture = ROOT / "tests" / "fixtures" / "legacy_definition.proto"
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{fixture.parent}", f"--python_out={out}", str(fixture)],
        check=True,
    )
    sys.path.insert(0, str(out))
    try:
        return importlib.import_module("legacy_definition_pb2")
    finally:
        sys.path.remove(str(out))


def decode_in_page(page, payload: bytes):
    return page.evaluate(
        """async (bytes) => {
            const { loadCaptionDecoder } = await import("/static/captions.js");
            const decode = await loadCaptionDecoder(document.body.dataset.protoUrl);
            return decode(new Uint8Array(bytes));
        }""",
        list(payload),
    )


def test_decoder_reads_the_current_layout(page):
    message = Text(
        uid=4_123_456_789,
        time=1732500000123,
        words=[Word(text="Hola a ", is_final=True), Word(text="todos")],
        duration_ms=900,
        data_type="transcribe",
        culture="es-ES",
        text_ts=1732500000000,
        sentence_id=42,
        original_transcript=OriginalTranscript(culture="es-ES", words=[Word(text="Hola")]),
    )
    decoded = decode_in_page(page, message.SerializeToString())
    assert decoded == {
        "uid": 4_123_456_789,
        "dataType": "transcribe",
        "culture": "es-ES",
        "sentenceId": 42,
        "text": "Hola a todos",
        "isFinal": True,
        "translations": [],
    }


def test_decoder_reads_translations(page):
    message = Text(uid=7, data_type="translate", trans=[Translation(is_final=True, lang="fr-FR", texts=["Bonjour"])])
    decoded = decode_in_page(page, message.SerializeToString())
    assert decoded["dataType"] == "translate"
    assert decoded["translations"] == [{"lang": "fr-FR", "text": "Bonjour", "isFinal": True}]


def test_decoder_reads_the_2024_layout_of_the_astro_demo(page, legacy_pb2):
    # int32 uid: a uid above 2^31 - 1 was sent negative, and must come out right.
    old = legacy_pb2.Text(
        vendor=1,
        version=2,
        seqnum=9,
        uid=3_000_000_000 - 2**32,
        flag=1,
        time=1722500000000,
        lang=1,
        starttime=5,
        offtime=6,
        words=[legacy_pb2.Word(text="old layout", start_ms=10, duration_ms=20, is_final=True, confidence=0.98)],
    )
    decoded = decode_in_page(page, old.SerializeToString())
    assert (decoded["uid"], decoded["text"], decoded["isFinal"]) == (3_000_000_000, "old layout", True)


def test_the_channel_input_knows_agoras_rule(page):
    values = ["demo", "!#$%&()+-:;<=.>?@[]^_{|}~, ", "x" * 64, "x" * 65, "a/b", "café", "", 'say "hi"']
    validity = page.get_by_test_id("channel").evaluate(
        "(input, values) => values.map((value) => { input.value = value; return input.checkValidity(); })", values
    )
    assert validity == [True, True, True, False, False, False, False, False]
