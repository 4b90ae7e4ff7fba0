"""The demo page renews its token before `expiresAt`, with its clock fast-forwarded, and keeps captioning.

Only the page's clock moves: the sandbox's caption stream is server-side SSE in real time, so
captions arriving after the renewal show the call went on.
"""

import json

import pytest

from api.settings import SANDBOX_CREDENTIALS
from tests.e2e.conftest import open_demo_page
from tests.e2e.test_demo_page import ARTIFACTS, finals, join, start
from tests.servers import start_gunicorn
from tests.tokens import PUBLISHER_PRIVILEGES, assert_token

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

LIFETIME = 600  # what this server advertises (DEMO_TOKEN_SECONDS), unlike the default 3600
# The page renews a minute before expiry; jump to just past that point, well before expiry.
PAST_THE_RENEWAL_POINT_MS = (LIFETIME - 50) * 1000

# Every token request the page makes, with the page's own (fake) clock at that moment.
RECORD_TOKEN_CALLS = """
window.tokenCalls = [];
const originalFetch = window.fetch;
window.fetch = (url, options) => {
  if (String(url).includes("/api/tokens.json")) {
    window.tokenCalls.push({ at: Date.now(), body: JSON.parse(options.body) });
  }
  return originalFetch(url, options);
};
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = start_gunicorn(tmp_path_factory.mktemp("renewal"), env={"DEMO_TOKEN_SECONDS": str(LIFETIME)}, workers=2)
    yield running
    assert running.stop() == 0, running.log()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1100, "height": 800})

    def prepare(opened):
        opened.clock.install()  # time flows on its own until the test jumps it forward
        opened.add_init_script(RECORD_TOKEN_CALLS)

    yield open_demo_page(context, server.url, prepare)
    context.close()


def join_and_caption(page):
    with page.expect_response("**/api/tokens.json") as answer:
        join(page)
    first = answer.value.json()
    start(page)
    finals(page).first.wait_for(timeout=10_000)
    return first


def assert_sandbox_token(answer, uid=1234):
    assert_token(
        answer["token"],
        channel=answer["channel"],
        uid=uid,
        privileges=PUBLISHER_PRIVILEGES,
        expires_at=answer["expiresAt"],
        app_id=SANDBOX_CREDENTIALS["APP_ID"],
        cert=SANDBOX_CREDENTIALS["APP_CERTIFICATE"],
    )


def test_the_page_renews_before_expiry_and_captions_go_on(page):
    first = join_and_caption(page)
    assert page.evaluate("document.body.dataset.tokenSeconds") == str(LIFETIME)
    [joined] = page.evaluate("window.tokenCalls")
    assert joined["body"] == {"channel": first["channel"], "uid": 1234, "role": "publisher", "expireTime": LIFETIME}
    assert first["version"] == "007"

    with page.expect_response("**/api/tokens.json") as answer:
        page.clock.fast_forward(PAST_THE_RENEWAL_POINT_MS)
    renewed = answer.value.json()

    calls = page.evaluate("window.tokenCalls")
    assert len(calls) == 2
    assert calls[1]["body"] == joined["body"]
    assert calls[1]["at"] < first["expiresAt"] * 1000  # renewed before the first token ran out
    assert renewed["channel"] == first["channel"]
    assert_sandbox_token(renewed)
    page.wait_for_function("document.body.dataset.tokenRenewals === '1'")
    assert page.evaluate("document.body.dataset.tokenExpiresAt") == str(renewed["expiresAt"])
    assert page.get_by_test_id("token-renewal").is_hidden()

    seen = finals(page).count()
    page.wait_for_function(
        f"""() => document.querySelectorAll('[data-testid="captions"] .caption[data-final="true"]').length
                 >= {seen + 2}""",
        timeout=15_000,
    )
    assert page.evaluate("document.body.dataset.phase") == "captioning"
    assert page.problems == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "demo-renewed.png")


def test_a_failed_renewal_is_shown_in_words_and_retried(page):
    answered = []

    def fail_the_first_renewal(route):
        answered.append(route.request.post_data_json)
        if len(answered) == 2:
            error = {"error": {"code": "rate_limited", "message": "Too many requests."}}
            route.fulfill(status=429, content_type="application/json", body=json.dumps(error))
        else:
            route.continue_()

    page.route("**/api/tokens.json", fail_the_first_renewal)
    first = join_and_caption(page)

    page.clock.fast_forward(PAST_THE_RENEWAL_POINT_MS)
    message = page.get_by_test_id("token-renewal")
    message.wait_for()
    text = message.inner_text()
    assert text.startswith("Could not renew the call's token: Too many requests. (rate_limited) — retrying in 2 s ")
    assert "(the current token works until " in text
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "demo-renewal-failed.png")

    with page.expect_response("**/api/tokens.json") as answer:
        page.clock.fast_forward(2_500)
    renewed = answer.value.json()
    assert len(answered) == 3
    calls = page.evaluate("window.tokenCalls")
    assert calls[2]["at"] < first["expiresAt"] * 1000
    assert_sandbox_token(renewed)
    message.wait_for(state="hidden")
    assert page.evaluate("document.body.dataset.tokenRenewals") == "1"
    assert page.evaluate("document.body.dataset.phase") == "captioning"


def test_leaving_stops_the_renewal(page):
    join_and_caption(page)
    page.get_by_test_id("leave").click()
    page.get_by_test_id("status").filter(has_text="Not in a call.").wait_for()
    page.clock.fast_forward(PAST_THE_RENEWAL_POINT_MS)
    page.clock.fast_forward(LIFETIME * 1000)
    assert len(page.evaluate("window.tokenCalls")) == 1


# ---- live mode's SDK events, with a stand-in for the Web SDK's client ----------------------

LIVE_MODE_RENEWAL = """async () => {
  const { TokenRenewal } = await import("/static/renewal.js");
  const handlers = {};
  const client = { on: (name, handler) => { handlers[name] = handler; }, renewed: [],
                   renewToken: async (token) => { client.renewed.push(token); } };
  let fetched = 0;
  const messages = document.createElement("p");
  const renewal = new TokenRenewal({
    fetchToken: async () => ({ token: `007-fresh-${++fetched}`, expiresAt: Math.floor(Date.now() / 1000) + 600 }),
    applyToken: (answer) => client.renewToken(answer.token),
    lifetimeSeconds: 600,
    messages,
  });
  renewal.watch(client);
  renewal.start({ token: "007-first", expiresAt: Math.floor(Date.now() / 1000) + 600 });
  // The SDK fires twice in a row: one renewal, not two.
  await Promise.all([handlers["token-privilege-will-expire"](), handlers["token-privilege-will-expire"]()]);
  renewal.stop();
  return { renewed: client.renewed, fetched, hidden: messages.hidden, events: Object.keys(handlers).sort() };
}"""


def test_live_mode_renews_on_the_sdks_warning_and_hands_the_token_to_the_client(page):
    result = page.evaluate(LIVE_MODE_RENEWAL)
    assert result["events"] == ["token-privilege-did-expire", "token-privilege-will-expire"]
    assert result["renewed"] == ["007-fresh-1"]
    assert (result["fetched"], result["hidden"]) == (1, True)
    shown = page.evaluate(
        """async () => {
          const { TokenRenewal } = await import("/static/renewal.js");
          const handlers = {};
          const messages = document.createElement("p");
          const renewal = new TokenRenewal({ fetchToken: async () => ({}), lifetimeSeconds: 600, messages });
          renewal.watch({ on: (name, handler) => { handlers[name] = handler; } });
          handlers["token-privilege-did-expire"]();
          return { text: messages.textContent, hidden: messages.hidden };
        }"""
    )
    assert shown == {
        "text": "The call's token expired before it could be renewed: leave and join again.",
        "hidden": False,
    }
