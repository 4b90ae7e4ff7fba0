// Caption messages: decode what the publisher bot sends, and render it per speaker.
// Used alike for Agora's RTC data stream (live) and the sandbox's event stream.

/* global protobuf */

const TWO_TO_32 = 2 ** 32;

/**
 * Load the caption schema (SttMessage.proto) and return a decoder of message bytes.
 * The current schema also decodes the older 2024-08 layout: its dropped fields are reserved.
 */
export async function loadCaptionDecoder(protoUrl) {
  const response = await fetch(protoUrl);
  if (!response.ok) throw new Error(`Could not load the caption schema (${response.status})`);
  const { root } = protobuf.parse(await response.text(), { keepCase: true });
  const Text = root.lookupType("Agora.SpeechToText.Text");
  return (bytes) => normalise(Text.toObject(Text.decode(bytes), { longs: Number, defaults: true }));
}

function normalise(message) {
  const words = message.words.map((word) => ({ text: word.text, isFinal: word.is_final }));
  return {
    // The 2024-08 layout sent uid as int32: uids above 2^31 - 1 arrive negative.
    uid: message.uid < 0 ? message.uid + TWO_TO_32 : message.uid,
    dataType: message.data_type || "transcribe",
    culture: message.culture,
    sentenceId: message.sentence_id,
    text: words.map((word) => word.text).join(""),
    isFinal: words.some((word) => word.isFinal),
    translations: message.trans.map((t) => ({ lang: t.lang, text: t.texts.join(""), isFinal: t.is_final })),
  };
}

/**
 * Renders captions: one line per speaker that grows while they talk (interim), then moves
 * into the log when the sentence is final. Only final lines enter the live region, so a
 * screen reader reads each sentence once, not every interim word.
 * A translation shows beneath the line it translates, in the one language this viewer picked
 * (interim text replaced by the final one), with the language named.
 */
export class CaptionBoard {
  constructor({ log, interim, nameOf, languageName = (code) => code, maxLines = 100 }) {
    this.log = log;
    this.interimArea = interim;
    this.nameOf = nameOf;
    this.languageName = languageName;
    this.maxLines = maxLines;
    this.interimLines = new Map(); // speaker uid -> element
    this.sentences = new Map(); // "uid:sentenceId" -> {line, translations: Map(lang -> {text, isFinal})}
    this.translationLanguage = "";
  }

  show(caption) {
    if (caption.dataType === "translate") {
      this.showTranslations(caption);
      return;
    }
    if (!caption.text) return;
    if (caption.isFinal) {
      this.interimLines.get(caption.uid)?.remove();
      this.interimLines.delete(caption.uid);
      const line = this.addFinal(caption.uid, caption.text, caption.culture);
      this.attach(caption, line);
    } else {
      let line = this.interimLines.get(caption.uid);
      if (!line) {
        line = this.line(caption.uid, "", false);
        this.interimLines.set(caption.uid, line);
        this.interimArea.append(line);
      }
      line.querySelector(".caption-text").textContent = caption.text;
      line.lang = caption.culture || "";
      this.attach(caption, line);
    }
  }

  showTranslations(caption) {
    const sentence = this.sentence(caption);
    for (const translation of caption.translations) {
      if (translation.text) sentence.translations.set(translation.lang, translation);
    }
    this.renderTranslations(sentence);
  }

  /** Show translations into `code` only ("" for none). */
  setTranslationLanguage(code) {
    this.translationLanguage = code;
    for (const sentence of this.sentences.values()) this.renderTranslations(sentence);
  }

  sentence(caption) {
    const key = `${caption.uid}:${caption.sentenceId}`;
    let sentence = this.sentences.get(key);
    if (!sentence) {
      sentence = { line: null, translations: new Map() };
      this.sentences.set(key, sentence);
      if (this.sentences.size > this.maxLines * 2) this.sentences.delete(this.sentences.keys().next().value);
    }
    return sentence;
  }

  attach(caption, line) {
    const sentence = this.sentence(caption);
    sentence.line = line;
    line.dataset.sentence = String(caption.sentenceId);
    this.renderTranslations(sentence);
  }

  renderTranslations(sentence) {
    if (!sentence.line) return;
    const translation = sentence.translations.get(this.translationLanguage);
    let shown = sentence.line.querySelector('[data-testid="translation"]');
    if (!translation) {
      shown?.remove();
      return;
    }
    if (!shown) {
      shown = document.createElement("span");
      shown.className = "caption-translation";
      shown.dataset.testid = "translation";
      const name = document.createElement("span");
      name.className = "translation-language";
      const words = document.createElement("span");
      words.className = "translation-text";
      shown.append(name, words);
      sentence.line.append(shown);
    }
    shown.lang = translation.lang;
    shown.dataset.final = String(translation.isFinal);
    shown.querySelector(".translation-language").textContent = this.languageName(translation.lang);
    shown.querySelector(".translation-text").textContent = translation.text;
  }

  addFinal(uid, text, lang) {
    const line = this.line(uid, text, true);
    if (lang) line.lang = lang;
    this.log.append(line);
    while (this.log.children.length > this.maxLines) this.log.firstElementChild.remove();
    line.scrollIntoView?.({ block: "nearest" });
    return line;
  }

  clearInterim() {
    for (const line of this.interimLines.values()) line.remove();
    this.interimLines.clear();
  }

  line(uid, text, isFinal) {
    const line = document.createElement(isFinal ? "li" : "p");
    line.className = `caption ${isFinal ? "final" : "interim"}`;
    line.dataset.speaker = String(uid);
    line.dataset.final = String(isFinal);
    line.style.setProperty("--speaker-hue", String(Math.round((uid * 137.508) % 360))); // golden angle
    const speaker = document.createElement("span");
    speaker.className = "caption-speaker";
    speaker.textContent = this.nameOf(uid);
    const words = document.createElement("span");
    words.className = "caption-text";
    words.textContent = text;
    line.append(speaker, words);
    return line;
  }
}
