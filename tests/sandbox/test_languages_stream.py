"""The sandbox's caption stream speaks the task's languages, carries its translations, and follows updates."""

import base64
import itertools
import json

import pytest

from sandbox.captions import SCRIPTS, SPEAKERS, conversation, encode_translation, speaker_language
from sandbox.SttMessage_pb2 import Text
from tests.clock import FakeClock
from tests.sandbox.test_sandbox_mode import read_events


@pytest.fixture
def clock(sandbox_app):
    """One clock for the service's store and the emulator's, so a test can pass Agora's 5 s gap at once."""
    clock = FakeClock()
    sandbox_app.extensions["sandbox_store"].clock = clock
    sandbox_app.extensions["state"].clock = clock
    return clock


@pytest.fixture
def client(sandbox_app, clock, tmp_path):
    return sandbox_app.test_client()


def start(client, **body):
    response = client.post("/api/rtt/start.json", json={"channel": "demo", **body})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def messages(events):
    return [Text.FromString(base64.b64decode(json.loads(e["data"])["payload"])) for e in events if "id" in e]


def until_final_translations(count):
    def done(events):
        return sum(1 for m in messages(events) if m.data_type == "translate" and m.trans[0].is_final) >= count

    return done


def test_each_speaker_talks_in_a_language_of_the_task_and_is_translated(client):
    task = start(
        client,
        languages=["en-US", "es-ES"],
        translate={
            "languages": [{"source": "en-US", "target": ["fr-FR", "de-DE"]}, {"source": "es-ES", "target": ["en-US"]}]
        },
    )
    response = client.get(f"/sandbox/captions/{task['taskId']}", buffered=False)
    texts = messages(read_events(response, until_final_translations(2)))
    response.close()

    transcribed = [m for m in texts if m.data_type == "transcribe"]
    assert {(m.uid, m.culture) for m in transcribed} == {(1001, "en-US"), (1002, "es-ES")}
    first_final = next(m for m in transcribed if m.words[0].is_final)
    assert first_final.words[0].text == SCRIPTS["en"][0]

    translated = [m for m in texts if m.data_type == "translate"]
    # interim translations first, then the final one, for every target of the source
    first_sentence = [m for m in translated if m.sentence_id == 1]
    assert [m.trans[0].is_final for m in first_sentence] == [False] * (len(first_sentence) - 1) + [True]
    final = first_sentence[-1]
    assert (final.uid, final.culture) == (1001, "en-US")
    assert [(t.lang, list(t.texts), t.is_final) for t in final.trans] == [
        ("fr-FR", [SCRIPTS["fr"][0]], True),
        ("de-DE", [SCRIPTS["de"][0]], True),
    ]
    second = next(m for m in translated if m.sentence_id == 2 and m.trans[0].is_final)
    assert (second.uid, second.culture, second.trans[0].lang, list(second.trans[0].texts)) == (
        1002,
        "es-ES",
        "en-US",
        [SCRIPTS["en"][1]],
    )


def test_per_speaker_languages_give_each_scripted_speaker_theirs(client):
    task = start(client, languages=["en-US"], uidLanguagesConfig=[{"uid": 1002, "languages": ["ja-JP"]}])
    response = client.get(f"/sandbox/captions/{task['taskId']}", buffered=False)
    events = read_events(response, lambda evs: any(m.uid == 1002 and m.words[0].is_final for m in messages(evs)))
    response.close()
    finals = {m.uid: m for m in messages(events) if m.words[0].is_final}
    assert (finals[1001].culture, finals[1001].words[0].text) == ("en-US", SCRIPTS["en"][0])
    assert (finals[1002].culture, finals[1002].words[0].text) == ("ja-JP", SCRIPTS["ja"][1])


def test_an_update_changes_the_stream_live(client, clock):
    task = start(client, languages=["en-US"])
    response = client.get(f"/sandbox/captions/{task['taskId']}", buffered=False)
    before = read_events(response, lambda evs: len(messages(evs)) >= 1)
    assert messages(before)[0].culture == "en-US"

    clock.advance(5.5)  # Agora's gap after the start
    update = {"taskId": task["taskId"], "languages": ["fr-FR"], "translate": {"languages": [{"source": "fr-FR",
              "target": ["en-US"]}]}}  # fmt: skip
    answer = client.post("/api/rtt/update.json", json=update)
    assert answer.status_code == 200, answer.get_json()
    after = messages(read_events(response, until_final_translations(1)))
    response.close()
    assert {m.culture for m in after} == {"fr-FR"}
    final = next(m for m in after if m.data_type == "translate" and m.trans[0].is_final)
    assert final.trans[0].lang == "en-US" and final.trans[0].texts[0] in SCRIPTS["en"]

    described = client.get(f"/sandbox/tasks/{task['taskId']}").get_json()
    assert described["languages"] == ["fr-FR"]
    assert [(u["sequenceId"], u["updateMask"]) for u in described["updates"]] == [
        (1, ["languages", "translateConfig.languages"])
    ]


def test_unsubscribed_speakers_are_not_transcribed(client):
    task = start(client, unSubscribeAudioUids=[1001])
    response = client.get(f"/sandbox/captions/{task['taskId']}", buffered=False)
    texts = messages(read_events(response, lambda evs: any(m.words[0].is_final for m in messages(evs))))
    response.close()
    assert {m.uid for m in texts} == {1002}


def test_languages_without_a_script_fall_back_to_english_and_unspaced_ones_grow_by_characters():
    events = list(itertools.islice(conversation(), 12))
    assert events[0].text_in("sv-SE") == events[0].text_in("en-US")
    assert events[0].text_in("zh-CN") == SCRIPTS["zh"][0][: len(events[0].text_in("zh-CN"))]
    assert " " not in events[0].text_in("ja-JP")


def test_speaker_language_prefers_the_speakers_own():
    assert speaker_language(SPEAKERS[1], ["en-US", "es-ES"], None) == "es-ES"
    assert speaker_language(SPEAKERS[1], ["en-US"], None) == "en-US"
    assert speaker_language(SPEAKERS[0], ["en-US"], [{"uid": "1001", "languages": ["ko-KR", "en-US"]}]) == "ko-KR"


def test_a_translation_message_is_agoras_shape():
    event = next(conversation())
    message = Text.FromString(encode_translation(event, "en-US", ["es-ES", "fr-FR"], 1732500000123))
    assert (message.data_type, message.culture, message.uid, message.time) == (
        "translate",
        "en-US",
        1001,
        1732500000123,
    )
    assert [(t.lang, t.is_final) for t in message.trans] == [("es-ES", False), ("fr-FR", False)]
    assert SCRIPTS["es"][0].startswith(message.trans[0].texts[0])
