// Follows one conversation's live captions over the broadcaster's websocket
// (/api/stt/connect, see docs/protocol.md): a snapshot, then new segments as they land.
// Segments are shown once each, in cursor order; a lost connection resumes with `since`.

const CONVERSATION = /^[A-Za-z0-9_-]{1,64}$/;
// Closes after which retrying the same request cannot help (unsupported data, policy).
const FINAL_CLOSE_CODES = new Set([1003, 1008]);
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

const statusLine = document.getElementById("status");
const segmentList = document.getElementById("segments");

function setStatus(state, text) {
  statusLine.dataset.state = state;
  statusLine.textContent = text;
}

function renderSegment(segment) {
  const item = document.createElement("li");
  item.className = "segment";
  item.dataset.segmentId = segment.id;
  item.dataset.cursor = segment.cursor;
  const time = document.createElement("time");
  const stabilized = new Date(segment.timestamp);
  time.dateTime = stabilized.toISOString();
  time.textContent = stabilized.toLocaleTimeString();
  const speaker = document.createElement("span");
  speaker.className = "speaker";
  speaker.textContent = segment.speaker;
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = segment.text;
  item.append(time, speaker, text);
  return item;
}

class Follower {
  constructor(conversation) {
    this.conversation = conversation;
    this.shown = new Set(); // segment ids: each segment appears once, whatever arrives twice
    this.lastCursor = null;
    this.retries = 0;
    this.lastError = null;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = new URLSearchParams({ conversation: this.conversation });
    if (this.lastCursor) query.set("since", this.lastCursor);
    return `${scheme}//${location.host}/api/stt/connect?${query}`;
  }

  connect() {
    if (this.retries === 0) setStatus("connecting", `Connecting to ${this.conversation}…`);
    this.lastError = null;
    const socket = new WebSocket(this.url());
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => this.closed(event));
  }

  receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.type === "snapshot") {
      this.retries = 0;
      setStatus("live", `Live: ${this.conversation}`);
    }
    if (message.type === "snapshot" || message.type === "segments") {
      for (const segment of message.segments) this.show(segment);
    } else if (message.type === "error") {
      this.lastError = message;
    }
  }

  show(segment) {
    if (this.shown.has(segment.id)) return;
    this.shown.add(segment.id);
    const follow = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    let after = null; // the first shown segment with a later cursor (almost always none)
    for (let node = segmentList.lastElementChild; node; node = node.previousElementSibling) {
      if (node.dataset.cursor <= segment.cursor) break;
      after = node;
    }
    segmentList.insertBefore(renderSegment(segment), after);
    if (this.lastCursor === null || segment.cursor > this.lastCursor) this.lastCursor = segment.cursor;
    if (follow) window.scrollTo(0, document.body.scrollHeight);
  }

  closed(event) {
    const reason = this.lastError?.message || event.reason;
    if (FINAL_CLOSE_CODES.has(event.code)) {
      setStatus("failed", `Disconnected: ${reason || `code ${event.code}`}`);
      return;
    }
    const backoff = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.retries);
    const delay = backoff / 2 + Math.random() * (backoff / 2);
    this.retries += 1;
    const why = reason ? ` (${reason})` : "";
    setStatus("reconnecting", `Disconnected${why}; reconnecting in ${Math.ceil(delay / 1000)} s…`);
    setTimeout(() => this.connect(), delay);
  }
}

function start() {
  const conversation = new URLSearchParams(location.search).get("conversation");
  if (conversation === null) return;
  document.getElementById("conversation-input").value = conversation;
  if (!CONVERSATION.test(conversation)) {
    setStatus("failed", "A conversation id is 1 to 64 letters, digits, - or _.");
    return;
  }
  document.title = `${conversation} · Captionist`;
  const links = document.getElementById("transcript-links");
  for (const link of links.querySelectorAll("a[data-format]")) {
    link.href = `/api/stt/conversations/${conversation}/transcript?format=${link.dataset.format}`;
  }
  links.hidden = false;
  new Follower(conversation).connect();
}

start();
