// Spoken and translation languages: the pickers, what start sends, and live changes through
// /api/rtt/update.json while captions run (same task, no restart, no gap in the stream).
//
// Agora takes an update only 5 s after the start and after the previous one; the server answers
// 429 update_too_soon with Retry-After inside that gap, and the page retries once it has passed.

const MAX_LANGUAGES = 4; // Agora: languages, and translation sources
const MAX_SPEAKERS = 5; // Agora: uidLanguagesConfig
const MAX_TARGETS = 10; // Agora: translation targets per source

export class LanguagePanel {
  constructor({ spoken, second, perSpeaker, translateTo, status, names, api, taskId, onTranslationLanguage }) {
    this.spoken = spoken;
    this.second = second;
    this.perSpeaker = perSpeaker;
    this.translateTo = translateTo;
    this.status = status;
    this.names = names; // code -> name, from the pickers
    this.api = api;
    this.taskId = taskId; // () => the running task's id, or null
    this.onTranslationLanguage = onTranslationLanguage;
    this.speakerLanguages = new Map(); // uid -> code chosen in "one language per participant"
    // Targets the task translates into: what this page asked for, plus what the stream shows
    // others asked for (masked fields are replaced whole, so an update must keep them).
    this.taskTargets = new Set();
    this.retry = null;
    this.perSpeakerSent = false;
    for (const picker of [spoken, second, perSpeaker]) picker.addEventListener("change", () => this.spokenChanged());
    translateTo.addEventListener("change", () => this.translationChanged());
  }

  nameOf(code) {
    return this.names[code] || code;
  }

  // ---- what the task should run with -------------------------------------------------

  languages() {
    return [...new Set([this.spoken.value, this.second.value].filter(Boolean))];
  }

  uidLanguagesConfig() {
    if (!this.perSpeaker.checked) return [];
    return [...this.speakerLanguages]
      .filter(([, code]) => code)
      .slice(0, MAX_SPEAKERS)
      .map(([uid, code]) => ({ uid, languages: [code] }));
  }

  sources() {
    const perSpeaker = this.uidLanguagesConfig().map((item) => item.languages[0]);
    return [...new Set([...this.languages(), ...perSpeaker])].slice(0, MAX_LANGUAGES);
  }

  wantedTargets() {
    const targets = new Set(this.taskTargets);
    if (this.translateTo.value) targets.add(this.translateTo.value);
    return targets;
  }

  /** translate for start or update, or null; throws when Agora's limit would be passed. */
  translate(targets = this.wantedTargets()) {
    const pairs = this.sources()
      .map((source) => ({ source, target: [...targets].filter((code) => code !== source) }))
      .filter((pair) => pair.target.length);
    if (pairs.some((pair) => pair.target.length > MAX_TARGETS)) {
      throw new Error(`Agora translates each language into at most ${MAX_TARGETS} others, and this call has reached that.`);
    }
    return pairs.length ? { languages: pairs } : null;
  }

  /** The language fields of a start request. */
  startFields() {
    const fields = { languages: this.languages() };
    const perSpeaker = this.uidLanguagesConfig();
    if (perSpeaker.length) fields.uidLanguagesConfig = perSpeaker;
    this.perSpeakerSent = perSpeaker.length > 0;
    const translate = this.translate();
    if (translate) fields.translate = translate;
    for (const code of this.wantedTargets()) this.taskTargets.add(code);
    return fields;
  }

  describe() {
    const spoken = this.languages().map((code) => this.nameOf(code)).join(" and ");
    const perSpeaker = this.uidLanguagesConfig().length ? ", some participants in their own" : "";
    const target = this.translateTo.value ? `; translated into ${this.nameOf(this.translateTo.value)} for you` : "";
    return `${spoken}${perSpeaker}${target}`;
  }

  // ---- changes while captions run ---------------------------------------------------------

  spokenChanged() {
    this.showSecondChoices();
    if (this.taskId()) this.send(this.spokenFields());
  }

  spokenFields() {
    const fields = { languages: this.languages() };
    const perSpeaker = this.uidLanguagesConfig();
    // An empty list clears what was sent before; never sent, it is left out.
    if (perSpeaker.length || this.perSpeakerSent) fields.uidLanguagesConfig = perSpeaker;
    try {
      const translate = this.translate();
      if (translate) fields.translate = translate;
    } catch (error) {
      this.say(error.message);
    }
    return fields;
  }

  translationChanged() {
    const code = this.translateTo.value;
    this.onTranslationLanguage(code);
    if (!this.taskId() || !code) return;
    if (this.taskTargets.has(code)) {
      this.say(`Translation into ${this.nameOf(code)} is on.`);
      return;
    }
    let translate;
    try {
      translate = this.translate();
    } catch (error) {
      this.say(error.message);
      return;
    }
    if (!translate) {
      this.say(`Everyone already speaks ${this.nameOf(code)}: nothing to translate.`);
      return;
    }
    this.send({ translate });
  }

  async send(fields) {
    clearTimeout(this.retry);
    this.retry = null;
    const taskId = this.taskId();
    if (!taskId) return;
    this.say("Sending the change to Agora…");
    try {
      const answer = await this.api("/api/rtt/update.json", { taskId, ...fields });
      for (const pair of fields.translate?.languages || []) pair.target.forEach((code) => this.taskTargets.add(code));
      if (fields.uidLanguagesConfig) this.perSpeakerSent = fields.uidLanguagesConfig.length > 0;
      this.say(`Change accepted (update ${answer.sequenceId}): ${this.describe()}.`);
    } catch (error) {
      if (error.code === "update_too_soon") {
        const wait = Number(error.retryAfter) || 5;
        this.say(`Agora takes a change only every 5 s: applying it in ${wait} s…`);
        // Recomputed when it runs, so later picks are sent together.
        this.retry = setTimeout(() => this.retryChange(), wait * 1000);
      } else {
        this.say(`The change was not accepted: ${error.message}`);
      }
    }
  }

  retryChange() {
    this.send(this.spokenFields());
  }

  /** Translation languages seen in the stream: other viewers asked for them. */
  noteTargets(codes) {
    for (const code of codes) this.taskTargets.add(code);
  }

  stopped() {
    clearTimeout(this.retry);
    this.retry = null;
    this.taskTargets.clear();
    this.perSpeakerSent = false;
    this.say("");
  }

  say(text) {
    this.status.textContent = text;
  }

  // ---- the pickers ------------------------------------------------------------------------

  showSecondChoices() {
    for (const option of this.second.options) option.disabled = option.value !== "" && option.value === this.spoken.value;
    if (this.second.value === this.spoken.value) this.second.value = "";
    document.body.dataset.perSpeaker = String(this.perSpeaker.checked);
  }

  /** A participant's own language picker, for "one language per participant". */
  speakerPicker(uid) {
    const select = document.createElement("select");
    select.dataset.testid = "speaker-language";
    select.dataset.uid = String(uid);
    select.className = "speaker-language";
    select.setAttribute("aria-label", `Language of participant ${uid}`);
    const none = new Option("Call's language", "");
    select.append(none, ...Object.entries(this.names).map(([code, name]) => new Option(name, code)));
    select.value = this.speakerLanguages.get(String(uid)) || "";
    select.addEventListener("change", () => {
      this.speakerLanguages.set(String(uid), select.value);
      this.spokenChanged();
    });
    return select;
  }

  setDisabled(disabled) {
    for (const picker of [this.spoken, this.second, this.perSpeaker, this.translateTo]) picker.disabled = disabled;
  }
}
