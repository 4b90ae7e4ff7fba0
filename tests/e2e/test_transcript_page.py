"""Names, the transcript panel and its downloads, in headless Chromium against gunicorn (sandbox, zero config)."""

import time
import uuid

import pytest
import requests
import srt
import webvtt

from tests.e2e.conftest import open_demo_page
from tests.e2e.test_demo_page import ARTIFACTS, finals, join, start

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    yield open_demo_page(context, server.url)
    context.close()


def name_the_scripted_speakers(server, channel):
    """The other participants give their names with their tokens (on any worker)."""
    for uid, name in ((1001, "Ana"), (1002, "Ben")):
        answer = requests.post(
            f"{server.url}/api/tokens.json", json={"channel": channel, "uid": uid, "name": name}, timeout=10
        )
        assert answer.status_code == 200


def download(page, format, tmp_path):
    with page.expect_download() as info:
        page.get_by_test_id(f"download-{format}").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.name.endswith(f".{format}")
    return saved


def wait_for_both_speakers(page):
    page.wait_for_function(
        """() => new Set([...document.querySelectorAll('[data-testid="captions"] .caption[data-final="true"]')]
                 .map((line) => line.dataset.speaker)).size >= 2""",
        timeout=15_000,
    )


def test_names_in_captions_and_people_and_the_recorded_transcript_downloads(page, server, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    channel = f"names-{uuid.uuid4().hex[:8]}"
    name_the_scripted_speakers(server, channel)
    page.get_by_test_id("name").fill("  Zoe  ")
    join(page, channel)
    people = page.get_by_test_id("participants")
    people.filter(has_text="Ana").wait_for(timeout=10_000)
    assert page.get_by_test_id("record-captions").is_checked()
    task = start(page).json()
    wait_for_both_speakers(page)
    speakers = {line.locator(".caption-speaker").inner_text() for line in finals(page).all()}
    assert speakers == {"Ana", "Ben"}
    assert [item.inner_text().strip() for item in people.locator("li").all()] == ["Zoe (you)", "Ana", "Ben"]
    page.screenshot(path=ARTIFACTS / "transcript-names.png", full_page=True)
    # The page's stream runs a little ahead of the files' clock (it starts at the first word):
    # one more line, and Ben's is surely in the recording too.
    page.wait_for_function(
        """() => document.querySelectorAll('[data-testid="captions"] .caption[data-final="true"]').length >= 3""",
        timeout=15_000,
    )

    with page.expect_response("**/api/rtt/stop.json"):
        page.get_by_test_id("stop-captions").click()
    page.get_by_test_id("status").filter(has_text="Captions stopped.").wait_for()
    vtt = download(page, "vtt", tmp_path)
    assert vtt.name == f"transcript-{task['taskId']}.vtt"
    cues = webvtt.read(str(vtt)).captions
    assert cues[0].voice == "Ana" and cues[0].text == "Hi everyone, thanks for joining the call."
    assert {cue.voice for cue in cues} == {"Ana", "Ben"}
    subtitles = list(srt.parse(download(page, "srt", tmp_path).read_text()))
    assert subtitles[0].content == "Ana: Hi everyone, thanks for joining the call."
    text = download(page, "txt", tmp_path).read_text().splitlines()
    # Offsets count from Agora's create_ts, whole seconds: the first line is within its first second or two.
    assert text[0] in {f"[00:00:0{s}] Ana: Hi everyone, thanks for joining the call." for s in (0, 1)}
    assert page.problems == []


def test_without_recording_the_download_is_built_from_the_lines_seen(page, server, tmp_path):
    channel = f"local-{uuid.uuid4().hex[:8]}"
    name_the_scripted_speakers(server, channel)
    join(page, channel)
    page.get_by_test_id("record-captions").uncheck()
    start(page)
    wait_for_both_speakers(page)
    page.get_by_test_id("transcript-status").filter(has_text="not recorded").wait_for()
    lines = download(page, "txt", tmp_path).read_text().splitlines()
    assert lines[0].endswith("] Ana: Hi everyone, thanks for joining the call.")
    assert lines[1].endswith("] Ben: Happy to be here. Can you all see the captions?")
    vtt = webvtt.read(str(download(page, "vtt", tmp_path))).captions
    assert [cue.voice for cue in vtt[:2]] == ["Ana", "Ben"]
    assert vtt[0].start_time.in_milliseconds() < vtt[1].start_time.in_milliseconds()
    assert download(page, "srt", tmp_path).name == f"transcript-{channel}.srt"
    assert page.problems == []


def test_a_late_joiner_sees_the_story_so_far_then_live_captions(browser, page, server, tmp_path):
    channel = f"late-{uuid.uuid4().hex[:8]}"
    name_the_scripted_speakers(server, channel)
    join(page, channel)
    task = start(page).json()
    # The sandbox writes a slice once its 10 s are over (while the first page listens).
    deadline = time.monotonic() + 40
    while True:
        story = requests.get(f"{server.url}/api/rtt/transcripts/{task['taskId']}.json", timeout=10).json()
        if story["cues"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert story["state"] == "partial" and story["cues"], story

    context = browser.new_context(viewport={"width": 1100, "height": 900})
    late = context.new_page()
    try:
        late.goto(server.url)
        late.get_by_test_id("status").filter(has_text="Not in a call.").wait_for()
        late.get_by_test_id("name").fill("Late Larry")
        join(late, channel, uid="4321")
        panel = late.get_by_test_id("transcript")
        panel.locator(".transcript-line").first.wait_for(timeout=10_000)
        first = panel.locator(".transcript-line").first.inner_text()
        assert (
            first.startswith(("00:00:00", "00:00:01"))
            and "Ana" in first
            and "Hi everyone, thanks for joining the call." in first
        )
        assert "Earlier in the call" in late.get_by_test_id("transcript-status").inner_text()
        answer = start(late).json()
        assert answer["alreadyRunning"] is True and answer["taskId"] == task["taskId"]
        finals(late).first.wait_for(timeout=15_000)  # live captions continue below the story
        late.screenshot(path=ARTIFACTS / "transcript-late-joiner.png", full_page=True)
    finally:
        context.close()
