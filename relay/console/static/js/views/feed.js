// The live feed (console.md "subscribe"): alerts as they are committed, newest first,
// a page of at most PAGE_SIZE cards at a time whatever the number of alerts, filters,
// receipts sent from each alert, flash alerts standing out (and ringing, if asked).

import {byId, h, newId, replace} from "../dom.js";
import {FeedState} from "../feed_state.js";
import {codesFrom, matches, openFilter} from "../filters.js";
import {
  distributionText, formatTime, headline, protectionNotices, routeText, seizuresText, subjectsText, tlpLabel,
} from "../format.js";

export const PAGE_SIZE = 50;
export const RECEIPTS = ["received", "in_progress", "positive", "negative", "not_located"];

export class FeedView {
  constructor(app) {
    this.app = app;
    this.filter = openFilter();
    this.state = new FeedState({accepts: (alert) => matches(alert, this.filter, (code) => app.airportCountry(code))});
    this.offset = 0;
    this.unseen = 0;
    this.replaying = false;
    this.subscription = null;
    this.cards = new Map(); // entry key → {node, version, language}
    this.scheduled = false;
    this.audio = null;
    byId("feed-filters").addEventListener("change", () => this.readFilters());
    byId("feed-filters").addEventListener("input", () => this.readFilters());
    byId("feed-filters").addEventListener("submit", (event) => event.preventDefault());
    byId("feed-newer").addEventListener("click", () => this.move(-PAGE_SIZE));
    byId("feed-older").addEventListener("click", () => this.move(PAGE_SIZE));
    byId("feed-newest").addEventListener("click", () => this.move(-this.offset));
    byId("ring-flash").addEventListener("change", (event) => {
      if (event.target.checked && !this.audio && globalThis.AudioContext) this.audio = new AudioContext();
    });
  }

  // -- the subscription ------------------------------------------------------------------

  welcomed(welcome) {
    if (!this.app.has("subscribe")) return;
    this.subscription = newId("feed-");
    this.replaying = true;
    byId("feed-list").setAttribute("aria-busy", "true");
    this.app.stream.post({type: "subscribe", id: this.subscription, filter: null, since: this.state.since(welcome.head)});
  }

  frame(frame) {
    if (frame.type === "error" && frame.id === this.subscription) {
      if ((frame.details || []).some((detail) => detail.field === "since")) {
        // a cursor this relay does not have (its log was replaced): start again
        this.state.clear();
        this.cards.clear();
        this.welcomed(this.app.stream.welcome || {head: 0});
      }
      return;
    }
    if (frame.type === "caught_up") {
      this.state.apply(frame);
      this.replaying = false;
      byId("feed-list").removeAttribute("aria-busy");
      this.schedule();
      return;
    }
    const change = this.state.apply(frame);
    if (!change) return;
    if (change.isNew && this.offset > 0 && this.state.visible.at(-1) === change.entry) {
      this.offset += 1; // keep the page the reader is on where it is
      this.unseen += 1;
    }
    if (!this.replaying && change.isNew && change.entry.alert.priority === "flash") this.ring();
    this.schedule();
  }

  ring() {
    if (!byId("ring-flash").checked || !this.audio) return;
    const oscillator = this.audio.createOscillator();
    const gain = this.audio.createGain();
    oscillator.frequency.value = 880;
    gain.gain.value = 0.2;
    oscillator.connect(gain).connect(this.audio.destination);
    oscillator.start();
    oscillator.stop(this.audio.currentTime + 0.6);
  }

  // -- filters and pages -----------------------------------------------------------------

  readFilters() {
    const form = byId("feed-filters");
    const checked = (name) => [...form.querySelectorAll(`input[name=${name}]:checked`)].map((input) => input.value);
    this.filter = {
      kinds: checked("kinds"),
      statuses: checked("statuses"),
      minPriority: byId("filter-priority").value,
      airports: codesFrom(byId("filter-airports").value),
      countries: codesFrom(byId("filter-countries").value),
    };
    this.state.setFilter(this.state.accepts);
    this.offset = 0;
    this.unseen = 0;
    this.schedule();
  }

  referenceLoaded() {
    if (this.filter.countries) this.readFilters();
  }

  move(delta) {
    const last = Math.max(0, this.state.visible.length - 1);
    this.offset = Math.min(Math.max(0, this.offset + delta), last - (last % PAGE_SIZE));
    if (this.offset === 0) this.unseen = 0;
    this.render();
    byId("feed-title").scrollIntoView({block: "start"});
  }

  // -- rendering -----------------------------------------------------------------------

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      this.render();
    };
    if (document.hidden) setTimeout(run, 250);
    else requestAnimationFrame(run);
  }

  shown() {
    this.render();
  }

  relabel() {
    this.cards.clear();
    this.render();
  }

  reset() {
    this.state.clear();
    this.cards.clear();
    this.offset = 0;
    this.unseen = 0;
    this.subscription = null;
    replace(byId("feed-list"));
  }

  render() {
    const feed = byId("feed-list");
    const entries = this.state.page(this.offset, PAGE_SIZE);
    const wanted = entries.map((entry) => this.card(entry));
    const keep = new Set(wanted);
    for (const child of [...feed.children]) if (!keep.has(child)) child.remove();
    let cursor = feed.firstElementChild;
    for (const node of wanted) {
      if (node !== cursor) feed.insertBefore(node, cursor);
      else cursor = cursor.nextElementSibling;
    }
    for (const key of [...this.cards.keys()]) {
      if (!entries.some((entry) => entry.key === key)) this.cards.delete(key);
    }
    const total = this.state.visible.length;
    byId("feed-empty").hidden = total > 0;
    byId("feed-summary").textContent = total
      ? this.app.t("feed.showing", {first: this.offset + 1, last: this.offset + entries.length, total: total.toLocaleString(this.app.i18n.language)})
      : "";
    byId("feed-pager").hidden = total <= PAGE_SIZE;
    byId("feed-newer").disabled = this.offset === 0;
    byId("feed-older").disabled = this.offset + PAGE_SIZE >= total;
    const newest = byId("feed-newest");
    newest.hidden = this.offset === 0;
    newest.textContent = this.unseen ? this.app.t("feed.unseen", {count: this.unseen}) : this.app.t("feed.to_newest");
  }

  card(entry) {
    const cached = this.cards.get(entry.key);
    const language = this.app.i18n.language;
    if (cached && cached.version === entry.version && cached.language === language) return cached.node;
    const node = this.buildCard(entry);
    this.cards.set(entry.key, {node, version: entry.version, language});
    return node;
  }

  buildCard(entry) {
    const {app} = this;
    const {i18n} = app;
    const alert = entry.alert;
    const titleId = `card-${entry.key}`;
    const classes = ["card", `priority-${alert.priority || "none"}`];
    if (alert.status && alert.status !== "actual") classes.push(`status-${alert.status}`);
    if (entry.cancelled) classes.push("cancelled");
    const own = alert.origin_unit === app.unit;
    const reduced = Boolean(alert.reduced_at); // an audit record: nothing left to update or cancel
    const facts = [
      [app.t("card.flight"), routeText(alert)],
      [app.t("card.subjects"), subjectsText(alert, i18n)],
      [app.t("card.seizures"), seizuresText(alert, i18n)],
      [app.t("card.requested_action"), alert.requested_action ? i18n.choice("requested_action", alert.requested_action) : ""],
      [app.t("card.origin_unit"), alert.origin_unit],
      [app.t("card.origin_relay"), alert.origin_relay],
      [app.t("card.received"), formatTime(alert.received_at, language(i18n))],
      [app.t("card.distribution"), distributionText(alert.distribution, i18n)],
    ].filter(([, value]) => value);
    return h("article", {class: classes.join(" "), "aria-labelledby": titleId, dataset: {key: entry.key, seq: entry.seq}},
      h("header", {class: "card-head"},
        h("h2", {id: titleId, class: "card-title"}, headline(alert, i18n)),
        h("p", {class: "badges"},
          alert.priority ? h("span", {class: `badge priority priority-${alert.priority}`}, app.t("card.pair", {label: app.t("card.priority"), value: i18n.choice("priority", alert.priority)})) : null,
          h("span", {class: `badge tlp tlp-${String(alert.tlp).replace("+", "-")}`}, tlpLabel(alert.tlp)),
          h("span", {class: "badge kind"}, i18n.choice("kind", alert.kind)),
          own ? h("span", {class: "badge own"}, app.t("card.own")) : null)),
      alert.status && alert.status !== "actual"
        ? h("p", {class: "status-banner"}, i18n.choice("status_banner", alert.status)) : null,
      entry.cancelled ? h("p", {class: "cancelled-banner"}, app.t("card.cancelled"),
        entry.cancel?.alert?.summary ? h("span", {class: "cancel-reason"}, ` ${entry.cancel.alert.summary}`) : null) : null,
      entry.updates.length ? h("p", {class: "updated"}, app.t("card.updated", {time: formatTime(entry.updates.at(-1).alert.received_at, language(i18n))})) : null,
      entry.partial ? h("p", {class: "hint"}, app.t("card.partial")) : null,
      protectionNotices(alert, i18n).map((notice) => h("p", {class: "protection-notice"}, notice)),
      typeof alert.summary === "string" ? h("p", {class: "summary"}, alert.summary) : null,
      h("dl", {class: "facts"}, facts.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
      entry.receipts.length ? h("ul", {class: "receipts", "aria-label": app.t("card.receipts")},
        entry.receipts.map((receipt) => h("li", {},
          h("strong", {}, i18n.choice("receipt", receipt.status)), ` · ${receipt.unit} · ${formatTime(receipt.at, language(i18n))}`,
          receipt.note ? h("span", {class: "note"}, ` · ${receipt.note}`) : null))) : null,
      h("div", {class: "card-actions"},
        h("button", {type: "button", class: "secondary", "aria-describedby": titleId,
          on: {click: () => app.detail.open(entry.key)}}, app.t("card.open")),
        own && app.has("publish") && !entry.cancelled && !reduced ? [
          h("button", {type: "button", class: "secondary", "aria-describedby": titleId,
            on: {click: () => app.views["new-alert"].edit(entry.alert, "update", entry.key)}}, app.t("card.update")),
          h("button", {type: "button", class: "secondary", "aria-describedby": titleId,
            on: {click: () => app.views["new-alert"].edit(entry.alert, "cancel", entry.key)}}, app.t("card.cancel")),
        ] : null,
        !own && !entry.cancelled ? receiptButtons(app, entry.key, titleId) : null));
  }
}

function language(i18n) {
  return i18n.language;
}

/** The five receipt buttons of an alert (console.md accessible names), in a group. */
export function receiptButtons(app, alertId, describedBy, note = () => "") {
  const group = h("div", {class: "receipt-buttons", role: "group", "aria-label": app.t("card.answer")});
  for (const status of RECEIPTS) {
    group.append(h("button", {type: "button", class: `receipt receipt-${status}`, "aria-describedby": describedBy,
      on: {click: (event) => sendReceipt(app, alertId, status, note(), event.currentTarget)}},
    app.i18n.choice("receipt", status)));
  }
  return group;
}

async function sendReceipt(app, alertId, status, note, button) {
  const buttons = [...button.parentElement.querySelectorAll("button")];
  for (const each of buttons) each.disabled = true;
  const frame = {type: "receipt", id: newId("receipt-"), alert_id: alertId, status};
  if (note) frame.note = note;
  try {
    const reply = await app.stream.request(frame);
    if (reply.type === "ack") app.notify(app.t("card.answer_sent", {status: app.i18n.choice("receipt", status)}));
    else app.notify(app.t("card.answer_refused", {reason: app.errorText(reply)}));
  } catch {
    app.notify(app.t("card.answer_no_link"));
  } finally {
    for (const each of buttons) each.disabled = false;
  }
}
