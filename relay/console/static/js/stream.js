// The stream client (protocol.md): the JSON sub-protocol, the token in the first frame
// (a browser cannot set the Authorization header), replies matched by frame id, and
// reconnection by itself after a dropped link.
//
// States, as the console shows them (console.md accessible names): "connected" once
// the relay's welcome arrived; "reconnecting" while it tries to get there; "offline"
// while it tries and the browser says it has no network (or before any sign-in). It
// always tries: a browser on a network with no internet (an airport's own, the relay on
// it) may well call itself offline and still reach the relay. Close codes
// (protocol.md "Close codes"): 4401, the token is refused or was revoked: the client
// stops and reports "signed-out"; 1012, the unit's roles changed: reconnect at once;
// anything else: reconnect with a growing delay (0.5 s to 15 s, with jitter).
//
// Events (EventTarget): "state" {state}, "welcome" {welcome}, "frame" {frame} for every
// frame that is not a reply, "signed-out" {reason: "refused" | "revoked"}.

export const SUBPROTOCOL = "relay.v1.json";
export const REPLY_TIMEOUT_MS = 30000;
const MAX_DELAY_MS = 15000;

export class Disconnected extends Error {
  constructor() {
    super("the link to the relay dropped before the reply");
    this.name = "Disconnected";
  }
}

export class StreamClient extends EventTarget {
  constructor({url, token, WebSocketImpl = globalThis.WebSocket, online = () => navigator.onLine}) {
    super();
    this.url = url;
    this.token = token;
    this.WebSocketImpl = WebSocketImpl;
    this.online = online;
    this.state = "offline";
    this.welcome = null;
    this.socket = null;
    this.pending = new Map(); // frame id → {resolve, reject, timer}
    this.attempt = 0;
    this.timer = null;
    this.stopped = true;
    this.everWelcomed = false;
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => this.dropLink();
  }

  start() {
    this.stopped = false;
    globalThis.addEventListener?.("online", this.onOnline);
    globalThis.addEventListener?.("offline", this.onOffline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    globalThis.removeEventListener?.("online", this.onOnline);
    globalThis.removeEventListener?.("offline", this.onOffline);
    clearTimeout(this.timer);
    this.closeSocket(1000);
    this.failPending();  // signed out: nothing waits for an answer that cannot come
    this.setState("offline");
  }

  get connected() {
    return this.state === "connected";
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.setState(this.online() ? "reconnecting" : "offline");
    let socket;
    try {
      socket = new this.WebSocketImpl(this.url, [SUBPROTOCOL]);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => socket.send(JSON.stringify({type: "auth", token: this.token})));
    socket.addEventListener("message", (message) => this.receive(socket, message.data));
    socket.addEventListener("close", (event) => this.closed(socket, event.code));
  }

  receive(socket, data) {
    if (socket !== this.socket) return;
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return; // the relay sends JSON only; nothing to do with anything else
    }
    if (frame.type === "welcome") {
      this.welcome = frame;
      this.attempt = 0;
      this.everWelcomed = true;
      this.setState("connected");
      this.dispatchEvent(new CustomEvent("welcome", {detail: {welcome: frame}}));
      return;
    }
    const waiting = typeof frame.id === "string" && frame.type !== "subscribed" ? this.pending.get(frame.id) : undefined;
    if (waiting) {
      this.pending.delete(frame.id);
      clearTimeout(waiting.timer);
      waiting.resolve(frame);
      return;
    }
    this.dispatchEvent(new CustomEvent("frame", {detail: {frame}}));
  }

  closed(socket, code) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.welcome = null;
    this.failPending();
    if (this.stopped) return;
    if (code === 4401) {
      this.stop();
      this.dispatchEvent(new CustomEvent("signed-out", {detail: {reason: this.everWelcomed ? "revoked" : "refused"}}));
      return;
    }
    if (code === 1012) {
      this.connect();
      return;
    }
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    if (this.stopped) return;
    this.setState(this.online() ? "reconnecting" : "offline");
    const base = Math.min(MAX_DELAY_MS, 500 * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 10);
    this.timer = setTimeout(() => this.connect(), base / 2 + Math.random() * base / 2);
  }

  /** The browser went offline: an open WebSocket would stall rather than fail, so it is
   * closed, and the client keeps trying (the network may still reach the relay). */
  dropLink() {
    if (this.stopped) return;
    this.closeSocket(1000);
    this.failPending();
    this.scheduleReconnect();
  }

  reconnectNow() {
    if (this.stopped || this.state === "connected") return;
    this.attempt = 0;
    this.closeSocket(1000);
    this.connect();
  }

  closeSocket(code) {
    const socket = this.socket;
    this.socket = null;
    this.welcome = null;
    if (socket) {
      try {
        socket.close(code);
      } catch {
        // already closing
      }
    }
  }

  failPending() {
    for (const waiting of this.pending.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(new Disconnected());
    }
    this.pending.clear();
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", {detail: {state}}));
  }

  /** Send a frame without waiting for anything; false when there is no link. */
  post(frame) {
    if (!this.socket || this.state !== "connected") return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Send a frame that has an ``id`` and resolve with the relay's reply to it (an ack
   * or an error). Rejects with Disconnected if the link drops first or there is none,
   * and after REPLY_TIMEOUT_MS without a reply. */
  request(frame) {
    return new Promise((resolve, reject) => {
      if (!this.socket || this.state !== "connected") {
        reject(new Disconnected());
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(frame.id);
        reject(new Disconnected());
      }, REPLY_TIMEOUT_MS);
      this.pending.set(frame.id, {resolve, reject, timer});
      this.socket.send(JSON.stringify(frame));
    });
  }
}
