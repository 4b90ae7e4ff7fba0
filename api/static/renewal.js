// Keeps the call's token fresh, so that a call longer than one token's lifetime goes on.
// Both modes: a timer set from the answer's `expiresAt` renews a little before it. Live mode:
// the Web SDK's `token-privilege-will-expire` (30 s before expiry) renews too, in case the
// timer was late (a sleeping laptop). A failed renewal is shown in words and retried.

const RETRY_SECONDS = [2, 5, 10, 30]; // then every 30 s, until it works or the call ends
const MAX_LEAD_MS = 60_000; // renew at most a minute early...
const LEAD_SHARE = 0.25; // ...and no earlier than the last quarter of a short lifetime

export class TokenRenewal {
  /**
   * @param {object} options
   * @param {() => Promise<{token: string, expiresAt: number}>} options.fetchToken asks the server for a new token
   * @param {(answer: object) => Promise<void>} [options.applyToken] hands it to the SDK (live: client.renewToken)
   * @param {number} options.lifetimeSeconds the lifetime the page asks for (DEMO_TOKEN_SECONDS)
   * @param {HTMLElement} options.messages where a failure is shown in words
   */
  constructor({ fetchToken, applyToken = async () => {}, lifetimeSeconds, messages }) {
    this.fetchToken = fetchToken;
    this.applyToken = applyToken;
    this.lifetimeMs = lifetimeSeconds * 1000;
    this.messages = messages;
    this.timer = null;
    this.inFlight = null;
    this.failures = 0;
    this.current = null;
    this.renewals = 0;
    this.stopped = false;
  }

  /** Track `answer` (of POST /api/tokens.json) and schedule its renewal. */
  start(answer) {
    this.current = answer;
    document.body.dataset.tokenExpiresAt = String(answer.expiresAt);
    this.schedule(this.renewDelay(answer));
  }

  /** Live mode: renew when the SDK says the token is about to expire, and say so if it did. */
  watch(client) {
    client.on("token-privilege-will-expire", () => this.renewNow());
    client.on("token-privilege-did-expire", () =>
      this.show("The call's token expired before it could be renewed: leave and join again."),
    );
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.show(null);
  }

  renewDelay(answer) {
    // The browser's clock may differ from the server's: never wait longer than the lifetime
    // asked for, and if the clock runs so far ahead that expiry seems past, trust the lifetime.
    let remaining = Math.min(answer.expiresAt * 1000 - Date.now(), this.lifetimeMs);
    if (remaining <= 0) remaining = this.lifetimeMs;
    return remaining - Math.min(MAX_LEAD_MS, remaining * LEAD_SHARE);
  }

  schedule(delayMs) {
    clearTimeout(this.timer);
    if (!this.stopped) this.timer = setTimeout(() => this.renewNow(), Math.max(0, delayMs));
  }

  /** Renew now; one renewal at a time, however many timers and SDK events ask. */
  renewNow() {
    if (this.stopped) return Promise.resolve();
    this.inFlight ??= this.renew().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  async renew() {
    clearTimeout(this.timer);
    try {
      const answer = await this.fetchToken();
      if (this.stopped) return;
      await this.applyToken(answer);
      this.failures = 0;
      this.renewals += 1;
      document.body.dataset.tokenRenewals = String(this.renewals);
      this.show(null);
      this.start(answer);
    } catch (error) {
      if (this.stopped) return;
      const wait = RETRY_SECONDS[Math.min(this.failures, RETRY_SECONDS.length - 1)];
      this.failures += 1;
      const expiry = new Date(this.current.expiresAt * 1000).toLocaleTimeString();
      this.show(
        `Could not renew the call's token: ${error.message} — retrying in ${wait} s ` +
          `(the current token works until ${expiry}).`,
      );
      this.schedule(wait * 1000);
    }
  }

  show(message) {
    this.messages.textContent = message ?? "";
    this.messages.hidden = !message;
  }
}
