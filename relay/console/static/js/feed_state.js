// The live feed's state, without the page (console.md "subscribe"; protocol.md
// "Ordering and exactly-once resume").
//
// One entry per alert: an update replaces the content of the alert it references, a
// cancel marks it cancelled, a receipt is added to it. ``cursor`` is the last seq
// handled; the stream client resubscribes with ``since = cursor`` after a dropped link,
// and an event at or below it is ignored, so nothing is shown twice. Entries are kept
// in seq order of their first event; ``visible`` holds those that pass the filter, and
// ``page()`` cuts it, newest first, so that the page renders a bounded number of cards
// whatever the number of alerts.

export const FEED_WINDOW = 20000; // events replayed at sign-in: the feed's first content
export const MAX_ENTRIES = 20000; // beyond, the oldest entries leave the feed (not the relay)

export class FeedState {
  constructor({maxEntries = MAX_ENTRIES, accepts = () => true} = {}) {
    this.maxEntries = maxEntries;
    this.cursor = null;
    this.entries = [];
    this.byKey = new Map(); // entry key (the first alert's id) → entry
    this.rootOf = new Map(); // every alert id (alert, update, cancel) → entry key
    this.accepts = accepts; // alert → boolean: the filter
    this.visible = [];
  }

  /** The seq to resume from: the last one handled, or ``head - FEED_WINDOW`` at first. */
  since(head) {
    return this.cursor ?? Math.max(0, (head || 0) - FEED_WINDOW);
  }

  /** Apply one frame of the stream. Returns ``{entry, isNew}`` when an entry appeared
   * or changed, else null (a frame already handled, or about an alert not in the feed). */
  apply(frame) {
    if (frame.type === "caught_up") {
      if (Number.isInteger(frame.seq) && (this.cursor === null || frame.seq > this.cursor)) this.cursor = frame.seq;
      return null;
    }
    if (frame.type !== "alert" && frame.type !== "receipt") return null;
    if (!Number.isInteger(frame.seq) || (this.cursor !== null && frame.seq <= this.cursor)) return null;
    this.cursor = frame.seq;
    const change = frame.type === "alert"
      ? this.applyAlert(frame.seq, frame.alert || {})
      : this.applyReceipt(frame.seq, frame.receipt || {});
    if (change) this.place(change);
    return change;
  }

  applyAlert(seq, alert) {
    const type = alert.msg_type || "alert";
    if (type === "alert" || !alert.references) {
      const existing = this.byKey.get(alert.alert_id);
      if (existing && !(existing.partial && existing.author !== authorOf(alert))) return null;
      if (existing) this.rekey(existing); // another unit's change shown alone keeps its own card
      const entry = newEntry(alert.alert_id, seq, alert);
      this.add(entry);
      this.rootOf.set(alert.alert_id, entry.key);
      return {entry, isNew: true};
    }
    let key = this.rootOf.get(alert.references) ?? alert.references;
    let entry = this.byKey.get(key);
    let isNew = false;
    if (entry && entry.author !== authorOf(alert)) {
      // Only the alert's own unit, at its own relay, changes it: another's "update" or
      // "cancel" naming it is shown alone, as what it is (docs/federation.md).
      key = alert.alert_id;
      entry = this.byKey.get(key);
    }
    if (!entry) { // the alert it changes is older than the feed: show the change alone
      entry = newEntry(key, seq, alert);
      entry.partial = true;
      this.add(entry);
      this.rootOf.set(key, key);
      isNew = true;
    }
    this.rootOf.set(alert.alert_id, key);
    if (type === "update") {
      entry.alert = alert;
      entry.updates.push({seq, alert});
    } else {
      entry.cancelled = true;
      entry.cancel = {seq, alert};
    }
    entry.lastSeq = seq;
    entry.version += 1;
    return {entry, isNew};
  }

  /** Move an entry to the key of its own first alert (the one that made it). */
  rekey(entry) {
    const old = entry.key;
    const own = (entry.updates[0] || entry.cancel).alert.alert_id;
    this.byKey.delete(old);
    entry.key = own;
    this.byKey.set(own, entry);
    for (const [id, key] of this.rootOf) {
      if (key === old && id !== old) this.rootOf.set(id, own);
    }
    this.rootOf.delete(old); // the original, arriving now, takes its own id back
  }

  applyReceipt(seq, receipt) {
    const entry = this.byKey.get(this.rootOf.get(receipt.alert_id));
    if (!entry) return null;
    entry.receipts.push({seq, ...receipt});
    entry.lastSeq = seq;
    entry.version += 1;
    return {entry, isNew: false};
  }

  add(entry) {
    this.entries.push(entry);
    this.byKey.set(entry.key, entry);
    if (this.entries.length > this.maxEntries) {
      const dropped = this.entries.splice(0, Math.ceil(this.maxEntries / 10));
      const gone = new Set(dropped.map((old) => old.key));
      for (const old of dropped) this.byKey.delete(old.key);
      for (const [id, key] of this.rootOf) if (gone.has(key)) this.rootOf.delete(id);
      this.visible = this.visible.filter((kept) => !gone.has(kept.key));
    }
  }

  /** Keep ``visible`` in step with one change. */
  place(change) {
    const {entry, isNew} = change;
    const passes = this.accepts(entry.alert);
    if (isNew) {
      if (passes) this.visible.push(entry);
      return;
    }
    const index = this.visible.indexOf(entry);
    if (index >= 0 && !passes) this.visible.splice(index, 1);
    if (index < 0 && passes) this.visible.splice(insertionPoint(this.visible, entry.seq), 0, entry);
  }

  /** Change the filter: ``visible`` is computed again from every entry. */
  setFilter(accepts) {
    this.accepts = accepts;
    this.visible = this.entries.filter((entry) => accepts(entry.alert));
  }

  /** Up to ``size`` visible entries, newest first, skipping the ``offset`` newest. */
  page(offset, size) {
    const end = Math.max(0, this.visible.length - offset);
    return this.visible.slice(Math.max(0, end - size), end).reverse();
  }

  clear() {
    this.cursor = null;
    this.entries = [];
    this.visible = [];
    this.byKey.clear();
    this.rootOf.clear();
  }
}

function newEntry(key, seq, alert) {
  return {key, seq, lastSeq: seq, alert, updates: [], cancelled: false, cancel: null,
          receipts: [], partial: false, version: 1, author: authorOf(alert)};
}

/** Who may change an alert: its unit, at its relay. */
function authorOf(alert) {
  return `${alert.origin_unit || ""}@${alert.origin_relay || ""}`;
}

function insertionPoint(entries, seq) {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (entries[middle].seq < seq) low = middle + 1;
    else high = middle;
  }
  return low;
}
