"""The demo page's languages in headless Chromium, on the sandbox under gunicorn: translations beneath
their originals, and spoken-language changes that keep the same task (update.json, no restart)."""

import pytest
import requests

from sandbox.captions import SCRIPTS
from tests.e2e import test_demo_page
from tests.e2e.test_demo_page import ARTIFACTS, join, start

page = test_demo_page.page  # the same fixture: a fresh browser context on the sandbox server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# Translated lines, with the line they translate (the element they are inside).
TRANSLATIONS = """() => [...document.querySelectorAll('[data-testid="translation"]')].map((t) => ({
    lang: t.getAttribute("lang"), final: t.dataset.final, text: t.querySelector(".translation-text").textContent,
    label: t.querySelector(".translation-language").textContent,
    original: t.closest(".caption")?.querySelector(".caption-text").textContent,
    originalFinal: t.closest(".caption")?.dataset.final }))"""


def final_translations(page, lang):
    return [t for t in page.evaluate(TRANSLATIONS) if t["lang"] == lang and t["final"] == "true"]


def wait_for_final_translation(page, lang, timeout=15_000):
    page.wait_for_function(
        f"""() => [...document.querySelectorAll('.caption[data-final="true"] [data-testid="translation"]')]
                   .some((t) => t.lang === "{lang}" && t.dataset.final === "true")""",
        timeout=timeout,
    )


def test_a_translation_picked_before_start_shows_beneath_each_original(page, server):
    ARTIFACTS.mkdir(exist_ok=True)
    join(page, channel="translate-before")
    page.get_by_test_id("translate-to").select_option("fr-FR")
    answer = start(page)
    assert answer.status == 200
    assert answer.request.post_data_json["translate"] == {"languages": [{"source": "en-US", "target": ["fr-FR"]}]}

    wait_for_final_translation(page, "fr-FR")
    page.screenshot(path=ARTIFACTS / "translation-fr.png", full_page=True)
    shown = final_translations(page, "fr-FR")
    english, french = SCRIPTS["en"], SCRIPTS["fr"]
    for line in shown:
        assert line["originalFinal"] == "true" and line["original"] in english
        assert line["text"] == french[english.index(line["original"])]  # the translation of that very line
        assert line["label"] == "French"
    # The viewer's choice only: nothing but French is shown.
    assert {t["lang"] for t in page.evaluate(TRANSLATIONS)} == {"fr-FR"}
    assert page.problems == []


def test_a_translation_picked_mid_call_is_added_to_the_same_task(page, server):
    join(page, channel="translate-during")
    task = start(page).json()
    page.locator('.caption[data-final="true"]').first.wait_for(timeout=10_000)
    with page.expect_response(
        lambda r: r.url.endswith("/api/rtt/update.json") and r.status == 200, timeout=15_000
    ) as updated:
        page.get_by_test_id("translate-to").select_option("de-DE")
    assert updated.value.json()["taskId"] == task["taskId"]
    assert updated.value.request.post_data_json["translate"] == {
        "languages": [{"source": "en-US", "target": ["de-DE"]}]
    }
    page.get_by_test_id("language-status").filter(has_text="Change accepted").wait_for()
    wait_for_final_translation(page, "de-DE")
    page.screenshot(path=ARTIFACTS / "translation-mid-call.png", full_page=True)
    # no restart: the same task, and the caption stream never stopped
    assert page.get_by_test_id("status").inner_text() != "Captions stopped."
    described = requests.get(f"{server.url}/sandbox/tasks/{task['taskId']}", timeout=5).json()
    assert described["options"]["translateConfig"] == {"languages": [{"source": "en-US", "target": ["de-DE"]}]}


def test_switching_the_spoken_language_mid_call_keeps_the_same_task(page, server):
    join(page, channel="switch-language")
    task = start(page).json()
    page.locator('.caption[data-final="true"]').first.wait_for(timeout=10_000)
    statuses = []
    page.on("response", lambda r: r.url.endswith("/api/rtt/update.json") and statuses.append(r.status))
    with page.expect_response(
        lambda r: r.url.endswith("/api/rtt/update.json") and r.status == 200, timeout=15_000
    ) as updated:
        page.get_by_test_id("language").select_option("es-ES")
    assert updated.value.json()["taskId"] == task["taskId"]
    assert set(statuses) <= {200, 429}  # a change within Agora's 5 s gap waits, then goes through
    page.wait_for_function(
        """() => [...document.querySelectorAll('.caption[data-final="true"]')].some((l) => l.lang === "es-ES")""",
        timeout=15_000,
    )
    spanish = page.locator('.caption[data-final="true"][lang="es-ES"] .caption-text').all_inner_texts()
    assert spanish and all(text in SCRIPTS["es"] for text in spanish)
    page.screenshot(path=ARTIFACTS / "spoken-language-switched.png", full_page=True)

    described = requests.get(f"{server.url}/sandbox/tasks/{task['taskId']}", timeout=5).json()
    assert described["languages"] == ["es-ES"] and described["status"] in ("STARTING", "RUNNING")
    assert [u["sequenceId"] for u in described["updates"]] == [1]
    # Chromium logs every 4xx; the 429 inside the gap is expected, anything else is not
    assert [p for p in page.problems if "status of 429" not in p] == []


def test_per_participant_languages_reach_the_task(page, server):
    join(page, channel="per-speaker")
    page.get_by_test_id("per-speaker").check()
    page.locator('[data-testid="speaker-language"][data-uid="1002"]').select_option("it-IT")
    answer = start(page)
    assert answer.request.post_data_json["uidLanguagesConfig"] == [{"uid": "1002", "languages": ["it-IT"]}]
    page.wait_for_function(
        """() => [...document.querySelectorAll('.caption[data-final="true"]')]
                 .some((l) => l.dataset.speaker === "1002" && l.lang === "it-IT")""",
        timeout=15_000,
    )
    page.screenshot(path=ARTIFACTS / "per-speaker-languages.png", full_page=True)
