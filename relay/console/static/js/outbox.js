// The browser's outbox of alerts (console.md "publish"), in IndexedDB.
//
// An alert is written to the outbox before it is first sent, under the idempotency key
// it keeps for every attempt (protocol.md "Idempotency"), so that a reload, a power cut
// or a dead link never loses it and a resend is never stored twice. An entry belongs to
// the unit that wrote it and is sent only on that unit's link. It is deleted as soon as
// the relay acknowledges it; one the relay refuses stays, marked rejected, until the
// officer fixes or discards it. Nothing else of an alert is kept in the browser.
//
// States: "queued" (not sent on the current link), "sent" (awaiting its reply),
// "rejected" (a final error: the problems are kept with it). "acknowledged" is shown,
// never stored.

const DATABASE = "relay-console";
const STORE = "outbox";
// Errors after which the same frame will never be accepted (protocol.md "Errors").
export const FINAL_ERRORS = new Set(["bad_frame", "unknown_type", "invalid_alert", "forbidden", "not_found"]);

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export async function openOutbox(name = DATABASE) {
  const opening = indexedDB.open(name, 1);
  opening.onupgradeneeded = () => {
    const store = opening.result.createObjectStore(STORE, {keyPath: "key"});
    store.createIndex("unit", "unit");
  };
  return new Outbox(await promised(opening));
}

export class Outbox {
  constructor(db) {
    this.db = db;
  }

  async run(mode, work) {
    const transaction = this.db.transaction(STORE, mode);
    const done = new Promise((resolve, reject) => { // the transaction may end before work returns
      transaction.oncomplete = resolve;
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
    const result = await work(transaction.objectStore(STORE));
    await done;
    return result;
  }

  /** Keep a new alert of ``unit`` under ``key`` (queued); resolves once it is stored. */
  add({key, unit, alert, label}) {
    const entry = {key, unit, alert, label: label || alert.summary?.slice(0, 80) || "",
                   state: "queued", created_at: new Date().toISOString(), attempts: 0,
                   code: null, details: []};
    return this.run("readwrite", (store) => promised(store.add(entry))).then(() => entry);
  }

  get(key) {
    return this.run("readonly", (store) => promised(store.get(key)));
  }

  /** Every entry of ``unit``, oldest first. */
  async list(unit) {
    const entries = await this.run("readonly", (store) => promised(store.index("unit").getAll(unit)));
    return entries.sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  async change(key, changes) {
    return this.run("readwrite", async (store) => {
      const entry = await promised(store.get(key));
      if (!entry) return null;
      Object.assign(entry, changes);
      await promised(store.put(entry));
      return entry;
    });
  }

  remove(key) {
    return this.run("readwrite", (store) => promised(store.delete(key)));
  }

  close() {
    this.db.close();
  }
}

/**
 * Send ``entry`` once with ``request(frame)`` (a StreamClient's) and record what came
 * back. Resolves with {outcome, reply}: "acknowledged" (deleted from the outbox),
 * "rejected" (a final error, kept with its problems), "retry" (rate limited or
 * unavailable: sent again later) or "queued" (no link: sent again on the next one).
 */
export async function sendEntry(outbox, entry, request) {
  await outbox.change(entry.key, {state: "sent", attempts: (entry.attempts || 0) + 1});
  let reply;
  try {
    reply = await request({type: "publish", id: entry.key, alert: entry.alert});
  } catch {
    await outbox.change(entry.key, {state: "queued"});
    return {outcome: "queued", reply: null};
  }
  if (reply.type === "ack") {
    await outbox.remove(entry.key);
    return {outcome: "acknowledged", reply};
  }
  if (FINAL_ERRORS.has(reply.code)) {
    await outbox.change(entry.key, {state: "rejected", code: reply.code, details: reply.details || []});
    return {outcome: "rejected", reply};
  }
  await outbox.change(entry.key, {state: "queued"});
  return {outcome: "retry", reply};
}
