// The live captions demo: get a token, join the call, start captions, watch them, stop.
// Live mode joins with Agora's Web SDK; sandbox mode gets the same caption bytes over
// Server-Sent Events, since nobody can join a real call offline.

import { CaptionBoard, loadCaptionDecoder } from "./captions.js";
import { whyCaptionsEnded } from "./ended.js";
import { LanguagePanel } from "./languages.js";
import { TokenRenewal } from "./renewal.js";
import { TranscriptPanel } from "./transcript.js";

const page = document.body.dataset;
const MODE = page.mode; // "sandbox" or "live"
const BOT_UID_MIN = Number(page.botUidMin); // transcription bots' uids start here
const TOKEN_SECONDS = Number(page.tokenSeconds); // the token lifetime the server advertises
const MAX_IDLE_TIME = Number(page.maxIdleTime); // the server's default, which the page's starts use
const POLL_MS = 3_000; // how soon the page learns that Agora ended the task (the registry knows at once)
const $ = (id) => document.querySelector(`[data-testid="${id}"]`);

const ui = {
  form: document.getElementById("call-form"),
  channel: $("channel"),
  uid: $("uid"),
  name: $("name"),
  record: $("record-captions"), // only when the server has caption storage
  language: $("language"),
  secondLanguage: $("language-2"),
  perSpeaker: $("per-speaker"),
  translateTo: $("translate-to"),
  languageStatus: $("language-status"),
  apiKey: document.getElementById("api-key"),
  join: $("join"),
  leave: $("leave"),
  start: $("start-captions"),
  stop: $("stop-captions"),
  status: $("status"),
  error: $("error"),
  participants: $("participants"),
};

const state = {
  phase: "idle", // idle, joining, joined, starting, captioning, stopping, leaving
  channel: null,
  uid: null,
  task: null, // the answer of start: {taskId, pubBotUid, subBotUid, ...}
  call: null, // live: the AgoraRTC client and microphone track
  stream: null, // sandbox: the EventSource
  poll: null,
  participants: new Map(), // uid -> label
  names: new Map(), // uid -> the name given with their token (speakers.json)
  namesPoll: null,
  botUids: new Set(),
  renewal: null, // TokenRenewal while in a call
};

let decodeCaption = null;
const LANGUAGE_NAMES = Object.fromEntries([...ui.language.options].map((option) => [option.value, option.text]));
const board = new CaptionBoard({
  log: document.getElementById("caption-log"),
  interim: document.getElementById("caption-interim"),
  nameOf: (uid) => displayName(uid),
  languageName: (code) => LANGUAGE_NAMES[code] || code,
});

// ---- the API -------------------------------------------------------------------------

class ApiError extends Error {}

async function api(path, body, { keepalive = false } = {}) {
  const headers = { "Content-Type": "application/json" };
  const key = ui.apiKey.value.trim();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(path, { method: "POST", headers, body: JSON.stringify(body), keepalive });
  } catch {
    throw new ApiError("Could not reach the server. Check that it is running and try again.");
  }
  const data = await response.json().catch(() => null);
  if (response.ok && data) return data;
  const error = data?.error;
  if (!error) throw new ApiError(`The server answered ${response.status} without an explanation.`);
  const hint = response.status === 401 ? " Enter an API key under “API key”." : "";
  const wait = response.headers.get("Retry-After");
  const retry = response.status === 429 && wait ? ` Try again in ${wait} s.` : "";
  const failure = new ApiError(`${error.message}${hint}${retry} (${error.code})`);
  failure.code = error.code;
  failure.retryAfter = wait;
  throw failure;
}

async function get(path) {
  const key = ui.apiKey.value.trim();
  return fetch(path, { headers: key ? { Authorization: `Bearer ${key}` } : {} });
}

// ---- speaker names: a name instead of a uid, wherever one is known ----------------------

function displayName(uid) {
  return state.names.get(uid) || (uid === state.uid ? "You" : `Speaker ${uid}`);
}

async function refreshNames() {
  if (!state.channel) return;
  const response = await get(`/api/rtt/speakers.json?channel=${encodeURIComponent(state.channel)}`).catch(() => null);
  const names = response?.ok ? await response.json() : null;
  if (!names) return;
  const changed = Object.entries(names).some(([uid, name]) => state.names.get(Number(uid)) !== name);
  if (!changed) return;
  state.names = new Map(Object.entries(names).map(([uid, name]) => [Number(uid), name]));
  for (const uid of state.names.keys()) {
    for (const label of document.querySelectorAll(`.caption[data-speaker="${uid}"] .caption-speaker`)) {
      label.textContent = displayName(uid);
    }
  }
  renderParticipants();
}

// The transcript panel and its downloads: transcript.js.
const transcript = new TranscriptPanel({
  lines: $("transcript-lines"),
  status: $("transcript-status"),
  buttons: { vtt: $("download-vtt"), srt: $("download-srt"), txt: $("download-txt") },
  get,
  nameOf: (uid) => displayName(uid),
});

// Spoken and translation languages, and their live changes: languages.js.
const languages = new LanguagePanel({
  spoken: ui.language,
  second: ui.secondLanguage,
  perSpeaker: ui.perSpeaker,
  translateTo: ui.translateTo,
  status: ui.languageStatus,
  names: LANGUAGE_NAMES,
  api,
  taskId: () => (state.phase === "captioning" ? state.task?.taskId : null),
  onTranslationLanguage: (code) => board.setTranslationLanguage(code),
});

// ---- what the page shows -------------------------------------------------------------

function setPhase(phase, status) {
  state.phase = phase;
  if (status) ui.status.textContent = status;
  const inCall = ["joined", "starting", "captioning", "stopping"].includes(phase);
  ui.join.disabled = phase !== "idle";
  ui.channel.disabled = ui.uid.disabled = ui.name.disabled = phase !== "idle";
  ui.leave.disabled = !inCall;
  ui.start.disabled = phase !== "joined";
  languages.setDisabled(!["idle", "joined", "captioning"].includes(phase)); // live changes while captioning
  ui.stop.disabled = phase !== "captioning";
  document.body.dataset.phase = phase;
}

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = false;
}

function clearError() {
  ui.error.textContent = "";
  ui.error.hidden = true;
}

function renderParticipants() {
  ui.participants.replaceChildren(
    ...[...state.participants].map(([uid, label]) => {
      const item = document.createElement("li");
      item.dataset.uid = String(uid);
      const name = state.names.get(uid);
      item.textContent = name ? (uid === state.uid ? `${name} (you)` : name) : label;
      item.append(languages.speakerPicker(uid));
      return item;
    }),
  );
}

function addParticipant(uid, label) {
  // The two transcription bots join the channel as users; they are not people.
  if (isBot(uid) || state.participants.has(uid)) return;
  state.participants.set(uid, label);
  renderParticipants();
}

function isBot(uid) {
  return state.botUids.has(uid) || uid >= BOT_UID_MIN;
}

// ---- joining and leaving the call ----------------------------------------------------

async function join(event) {
  event.preventDefault();
  if (state.phase !== "idle") return;
  clearError();
  const channel = ui.channel.value;
  const uid = ui.uid.value.trim() === "" ? 0 : Number(ui.uid.value);
  setPhase("joining", `Joining “${channel}”…`);
  try {
    const token = await api("/api/tokens.json", tokenRequest(channel, uid));
    state.channel = token.channel;
    state.uid = MODE === "live" ? await joinAgora(token) : token.uid;
    startRenewal(token);
    state.participants = new Map([[state.uid, `You (${state.uid})`]]);
    // Sandbox: the scripted speakers are in the call from the start, as real participants would be.
    for (const uid of (page.sandboxSpeakers || "").split(",").filter(Boolean)) {
      state.participants.set(Number(uid), `Speaker ${uid} (scripted)`);
    }
    renderParticipants();
    refreshNames();
    state.namesPoll = setInterval(refreshNames, 5_000);
    transcript.joined(state.channel);
    const where = MODE === "live" ? "" : " Sandbox: no real call; start captions to see a scripted conversation.";
    setPhase("joined", `In channel “${state.channel}” as uid ${state.uid}.${where}`);
  } catch (error) {
    setPhase("idle", "Not in a call.");
    showError(`Could not join: ${error.message}`);
  }
}

function tokenRequest(channel, uid) {
  const request = { channel, uid, role: "publisher", expireTime: TOKEN_SECONDS };
  const name = ui.name.value.trim();
  if (name && uid) request.name = name; // a token for any uid (0) cannot say whose name it is
  return request;
}

async function joinAgora(token) {
  await loadScript(page.agoraSdkUrl);
  const AgoraRTC = window.AgoraRTC;
  AgoraRTC.setLogLevel(2); // warnings and errors only
  const client = AgoraRTC.createClient({ mode: "rtc", codec: "vp8" });
  client.on("user-joined", (user) => addParticipant(user.uid, `Participant ${user.uid}`));
  client.on("user-left", (user) => {
    state.participants.delete(user.uid);
    renderParticipants();
  });
  client.on("user-published", async (user, mediaType) => {
    if (isBot(user.uid) || mediaType !== "audio") return;
    await client.subscribe(user, "audio");
    user.audioTrack?.play();
  });
  client.on("stream-message", (uid, payload) => onCaptionMessage(uid, payload));
  // uid 0: the token lets any uid in, and Agora assigns one.
  const uid = await client.join(token.appId, token.channel, token.token, token.uid || null);
  state.call = { client, microphone: null };
  try {
    state.call.microphone = await AgoraRTC.createMicrophoneAudioTrack();
    await client.publish([state.call.microphone]);
  } catch (error) {
    showError(`No microphone (${error.message}); you can still see others' captions.`);
  }
  return uid;
}

async function leave() {
  if (!["joined", "captioning"].includes(state.phase)) return;
  clearError();
  if (state.phase === "captioning") await stopCaptions();
  if (state.task) endCaptions("Captions are off."); // stop failed: at least stop listening
  setPhase("leaving", "Leaving…");
  state.renewal?.stop();
  if (state.call) {
    state.call.microphone?.close();
    await state.call.client.leave().catch(() => {});
    state.call = null;
  }
  state.participants.clear();
  clearInterval(state.namesPoll);
  state.names.clear();
  transcript.left();
  renderParticipants();
  setPhase("idle", "Not in a call.");
}

function startRenewal(token) {
  const client = state.call?.client;
  state.renewal = new TokenRenewal({
    fetchToken: () => api("/api/tokens.json", tokenRequest(state.channel, state.uid)),
    applyToken: async (answer) => client?.renewToken(answer.token),
    lifetimeSeconds: TOKEN_SECONDS,
    messages: $("token-renewal"),
  });
  if (client) state.renewal.watch(client);
  state.renewal.start(token);
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    if (window.AgoraRTC) return resolve();
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error("could not load Agora's Web SDK"));
    document.head.append(script);
  });
}

// ---- captions -------------------------------------------------------------------------

async function startCaptions() {
  if (state.phase !== "joined") return; // one start at a time: the button is disabled too
  clearError();
  setPhase("starting", "Starting captions…");
  try {
    decodeCaption ??= await loadCaptionDecoder(page.protoUrl);
    const recordCaptions = Boolean(ui.record?.checked);
    const task = await api("/api/rtt/start.json", { channel: state.channel, ...languages.startFields(), recordCaptions });
    state.task = task;
    state.botUids = new Set([task.pubBotUid, task.subBotUid]);
    if (MODE === "sandbox") openSandboxStream(task);
    state.poll = setInterval(checkTask, POLL_MS);
    setPhase("captioning", `Captions on (${languages.describe()}). Waiting for speech…`);
    refreshNames();
    transcript.captionsStarted();
  } catch (error) {
    setPhase("joined", "Captions are off.");
    showError(`Could not start captions: ${error.message}`);
  }
}

async function stopCaptions() {
  if (state.phase !== "captioning") return;
  clearError();
  setPhase("stopping", "Stopping captions…");
  try {
    await api("/api/rtt/stop.json", { taskId: state.task.taskId });
    endCaptions("Captions stopped.");
  } catch (error) {
    if (error.code === "task_not_found") {
      endCaptions("Captions stopped (the task had already ended).");
    } else {
      setPhase("captioning", "Captions are still on.");
      showError(`Could not stop captions: ${error.message}`);
    }
  }
}

function endCaptions(status) {
  clearInterval(state.poll);
  state.stream?.close();
  state.stream = null;
  state.task = null;
  languages.stopped();
  board.clearInterim();
  setPhase("joined", status);
}

async function checkTask() {
  if (state.phase !== "captioning") return;
  try {
    const task = await api("/api/rtt/query.json", { taskId: state.task.taskId });
    if (task.status === "STOPPED" || task.status === "FAILED") {
      endCaptions(whyCaptionsEnded(task.status, task.endedReason || task.message, MAX_IDLE_TIME));
    }
  } catch (error) {
    if (error.code === "task_not_found") endCaptions("Captions ended: the task is gone.");
  }
}

function onCaptionMessage(uid, payload) {
  // Only the publisher bot's data stream carries captions.
  if (!decodeCaption || !(uid === state.task?.pubBotUid || isBot(uid))) return;
  let caption;
  try {
    caption = decodeCaption(payload);
  } catch (error) {
    console.warn("A caption message could not be decoded", error);
    return;
  }
  if (MODE === "sandbox") addParticipant(caption.uid, `Speaker ${caption.uid} (scripted)`);
  if (!state.names.has(caption.uid) && !askedNames.has(caption.uid)) refreshNamesSoon(caption.uid);
  if (caption.isFinal && caption.dataType !== "translate" && caption.text) transcript.noteLine(caption);
  if (caption.dataType === "translate") languages.noteTargets(caption.translations.map((t) => t.lang));
  if (state.phase === "captioning" && caption.isFinal && caption.dataType !== "translate") {
    ui.status.textContent = "Captions on.";
  }
  board.show(caption);
}

let namesTimer = null;
const askedNames = new Set();
function refreshNamesSoon(uid) {
  // A new voice: ask for its name once now (the poll keeps asking every few seconds).
  askedNames.add(uid);
  namesTimer ??= setTimeout(() => {
    namesTimer = null;
    refreshNames();
  }, 1_000);
}

function openSandboxStream(task) {
  const stream = new EventSource(`/sandbox/captions/${encodeURIComponent(task.taskId)}`);
  stream.onmessage = (event) => {
    const { uid, payload } = JSON.parse(event.data);
    onCaptionMessage(uid, Uint8Array.from(atob(payload), (char) => char.charCodeAt(0)));
  };
  stream.addEventListener("end", (event) => {
    const info = JSON.parse(event.data);
    if (state.phase === "captioning") endCaptions(whyCaptionsEnded(info.status, info.message, MAX_IDLE_TIME));
  });
  stream.onerror = () => {
    if (state.stream !== stream || state.phase !== "captioning") return;
    if (stream.readyState === EventSource.CLOSED) {
      endCaptions("Captions are off.");
      showError("The caption stream was lost.");
    } else {
      ui.status.textContent = "Caption stream interrupted; reconnecting…";
    }
  };
  state.stream = stream;
}

// ---- wiring ---------------------------------------------------------------------------

ui.uid.value ||= String(1000 + Math.floor(Math.random() * 9000));
ui.apiKey.value = sessionStorage.getItem("apiKey") || "";
ui.apiKey.addEventListener("change", () => sessionStorage.setItem("apiKey", ui.apiKey.value.trim()));
ui.form.addEventListener("submit", join);
ui.leave.addEventListener("click", leave);
ui.start.addEventListener("click", startCaptions);
ui.stop.addEventListener("click", stopCaptions);
// Closing the page must not leave a transcription task (and its bill) running.
window.addEventListener("pagehide", () => {
  if (state.task) api("/api/rtt/stop.json", { taskId: state.task.taskId }, { keepalive: true }).catch(() => {});
  state.call?.client.leave();
});
board.setTranslationLanguage(ui.translateTo.value);
languages.showSecondChoices();
setPhase("idle", "Not in a call.");
