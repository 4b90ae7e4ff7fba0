// The transcript panel: the story so far for someone who joins a recording channel late, and
// "Download transcript" as WebVTT, SRT or text. When the channel's task records, the files
// come from the server (GET /api/rtt/transcripts/<taskId>.<format>); when it does not, they
// are built from the lines this page has seen. Every line carries its speaker's name and time.

const FORMATS = ["vtt", "srt", "txt"];

export class TranscriptPanel {
  /**
   * @param {object} options
   * @param {HTMLElement} options.lines the list the story so far goes into
   * @param {HTMLElement} options.status a line saying what the panel holds
   * @param {Object<string, HTMLButtonElement>} options.buttons {vtt, srt, txt}
   * @param {(path: string) => Promise<Response>} options.get a GET with the API key, if any
   * @param {(uid: number) => string} options.nameOf who a uid is, for people
   */
  constructor({ lines, status, buttons, get, nameOf }) {
    this.lines = lines;
    this.status = status;
    this.buttons = buttons;
    this.get = get;
    this.nameOf = nameOf;
    this.channel = null;
    this.recordingTaskId = null; // the channel's task whose captions the server keeps
    this.seen = []; // {at, uid, text} of final lines this page received, for a local transcript
    this.startedAt = null;
    for (const format of FORMATS) buttons[format].addEventListener("click", () => this.download(format));
  }

  /** In a call in `channel`: load what its recording task has written so far, if it has one. */
  async joined(channel) {
    this.channel = channel;
    this.setButtons(true);
    await this.refresh({ storySoFar: true });
  }

  left() {
    this.channel = null;
    this.recordingTaskId = null;
    this.seen = [];
    this.startedAt = null;
    this.lines.replaceChildren();
    this.setButtons(false);
    this.status.textContent = "Join a call: if its captions are recorded, what was said before you came shows here.";
  }

  /** Captions started (or were already running): learn whether the task records. */
  async captionsStarted() {
    this.startedAt ??= Date.now();
    await this.refresh({ storySoFar: false });
  }

  /** A final caption line this page showed. */
  noteLine(caption) {
    this.startedAt ??= Date.now();
    this.seen.push({ at: (Date.now() - this.startedAt) / 1000, uid: caption.uid, text: caption.text });
  }

  async refresh({ storySoFar }) {
    if (!this.channel) return;
    let listing;
    try {
      const response = await this.get(`/api/rtt/transcripts.json?channel=${encodeURIComponent(this.channel)}`);
      listing = response.ok ? await response.json() : null;
    } catch {
      listing = null;
    }
    const recording = (listing?.tasks || []).filter((task) => task.recordsCaptions && task.transcript === "partial");
    const task = recording[recording.length - 1];
    this.recordingTaskId = task?.taskId || null;
    if (!task) {
      this.status.textContent = "Captions here are not recorded: a download holds the lines this page has seen.";
      return;
    }
    if (!storySoFar) {
      if (!this.lines.children.length) {
        this.status.textContent = "These captions are recorded: a download holds the whole call so far.";
      }
      return;
    }
    const response = await this.get(`/api/rtt/transcripts/${encodeURIComponent(task.taskId)}.json`).catch(() => null);
    const transcript = response?.ok ? await response.json() : { cues: [] };
    this.showStory(transcript.cues);
  }

  showStory(cues) {
    this.lines.replaceChildren(
      ...cues.map((cue) => {
        const line = document.createElement("li");
        line.className = "transcript-line";
        line.dataset.speaker = String(cue.uid ?? "");
        line.style.setProperty("--speaker-hue", String(Math.round(((cue.uid || 0) * 137.508) % 360)));
        if (cue.language) line.lang = cue.language;
        const time = document.createElement("time");
        time.textContent = clock(cue.start);
        const speaker = document.createElement("span");
        speaker.className = "transcript-speaker";
        speaker.textContent = cue.name || (cue.uid != null ? this.nameOf(cue.uid) : "Someone");
        const words = document.createElement("span");
        words.textContent = cue.text;
        line.append(time, speaker, words);
        return line;
      }),
    );
    this.lines.lastElementChild?.scrollIntoView?.({ block: "nearest" });
    this.status.textContent = cues.length
      ? `Earlier in the call (${cues.length} lines); live captions continue below.`
      : "These captions are recorded; nothing has been written yet. Live captions continue below.";
  }

  async download(format) {
    let blob;
    let name;
    if (this.recordingTaskId) {
      const path = `/api/rtt/transcripts/${encodeURIComponent(this.recordingTaskId)}.${format}`;
      const response = await this.get(path).catch(() => null);
      if (!response?.ok) {
        this.status.textContent = `Could not download the transcript (${response ? response.status : "no answer"}).`;
        return;
      }
      blob = await response.blob();
      name = `transcript-${this.recordingTaskId}.${format}`;
    } else {
      blob = new Blob([LOCAL[format](this.seen, this.nameOf)], { type: "text/plain;charset=utf-8" });
      name = `transcript-${safe(this.channel || "call")}.${format}`;
    }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }

  setButtons(enabled) {
    for (const format of FORMATS) this.buttons[format].disabled = !enabled;
  }
}

// ---- transcripts built in the page, from the lines it saw --------------------------------

const LOCAL = {
  vtt: (lines, nameOf) =>
    "WEBVTT\n" +
    cuesOf(lines)
      .map((cue) => `\n${stamp(cue.start, ".")} --> ${stamp(cue.end, ".")}\n<v ${escape(nameOf(cue.uid))}>${escape(cue.text)}\n`)
      .join(""),
  srt: (lines, nameOf) =>
    cuesOf(lines)
      .map((cue, index) => `${index + 1}\n${stamp(cue.start, ",")} --> ${stamp(cue.end, ",")}\n${nameOf(cue.uid)}: ${cue.text}\n\n`)
      .join(""),
  txt: (lines, nameOf) => cuesOf(lines).map((cue) => `[${clock(cue.start)}] ${nameOf(cue.uid)}: ${cue.text}\n`).join(""),
};

// A line is shown when its sentence is final: it lasted until then, from the previous line on.
function cuesOf(lines) {
  return lines.map((line, index) => {
    const end = Math.max(line.at, 0.5);
    const start = Math.max(index ? lines[index - 1].at : 0, end - 5);
    return { start, end, uid: line.uid, text: line.text.replace(/\n+/g, " ") };
  });
}

function stamp(seconds, separator) {
  const ms = Math.round(seconds * 1000);
  const pad = (value, width = 2) => String(value).padStart(width, "0");
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`;
}

function clock(seconds) {
  return stamp(seconds, ".").slice(0, 8);
}

function escape(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function safe(name) {
  return name.replace(/[^A-Za-z0-9_-]+/g, "_");
}
