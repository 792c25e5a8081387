// One alert opened (console.md "subscribe"): every field, its updates and cancellation,
// its receipts and, for its origin, its deliveries (GET /v1/alerts/{alert_id}), and the
// receipt buttons with a note. A masked or reduced alert (protection.md) says so, each
// version of it on its own, and shows what the relay kept: nothing is filled in.

import {byId, h, replace} from "../dom.js";
import {distributionText, formatTime, headline, hiddenName, protectionNotices, tlpLabel} from "../format.js";
import {receiptButtons} from "./feed.js";

// The alert's fields in the order they are shown, with their label's message id.
const FIELDS = [
  ["kind", "form.kind"], ["msg_type", "detail.msg_type"], ["status", "form.status"],
  ["priority", "form.priority"], ["tlp", "form.tlp"], ["summary", "form.summary"],
  ["distribution", "form.distribution"], ["origin_unit", "card.origin_unit"],
  ["origin_relay", "card.origin_relay"],
  ["sent_at", "detail.sent_at"], ["received_at", "card.received"], ["expires_at", "form.expires_at"],
  ["references", "detail.references"], ["language", "form.language"], ["flight", "form.section_flight"],
  ["subjects", "form.section_subjects"], ["requested_action", "form.requested_action"],
  ["indicators", "form.indicators"], ["seizures", "form.section_seizure"], ["concealment", "form.concealment"],
  ["detection", "form.detection"], ["location", "form.location"], ["occurred_at", "form.occurred_at"],
  ["grading", "detail.grading"], ["alert_id", "detail.alert_id"], ["ext", "detail.ext"],
];
const CHOICE_OF = {kind: "kind", msg_type: "msg_type", status: "status", priority: "priority",
  requested_action: "requested_action", concealment: "concealment", detection: "detection"};
const TIMES = new Set(["sent_at", "received_at", "expires_at", "occurred_at", "scheduled_arrival"]);
const SUB_LABELS = {
  number: "form.flight_number", date: "form.flight_date", origin: "form.origin", destination: "form.destination",
  route: "form.route", scheduled_arrival: "form.scheduled_arrival", role: "form.subject_role",
  surname: "form.surname", given_names: "form.given_names", birth_date: "form.birth_date",
  nationality: "form.nationality", document: "form.document_type", seat: "form.seat",
  pnr_locator: "form.pnr_locator", bag_tags: "form.bag_tags", commodity: "form.commodity",
  quantity: "form.quantity", unit: "form.quantity_unit", description: "form.description",
  source: "form.grading_source", information: "form.grading_information", type: "form.document_type",
  issuing_country: "form.issuing_country",
};

export class AlertDetail {
  constructor(app) {
    this.app = app;
    this.dialog = byId("detail");
    this.alertId = null;
    byId("detail-close").addEventListener("click", () => this.dialog.close());
  }

  relabel() {
    if (this.dialog.open && this.alertId) this.open(this.alertId);
  }

  async open(alertId) {
    const {app} = this;
    this.alertId = alertId;
    const body = byId("detail-body");
    byId("detail-title").textContent = app.t("detail.loading");
    replace(body, h("p", {}, app.t("detail.loading")));
    if (!this.dialog.open) this.dialog.showModal();
    let file;
    try {
      file = await app.api.get(`/v1/alerts/${encodeURIComponent(alertId)}`);
    } catch (error) {
      byId("detail-title").textContent = app.t("detail.unavailable");
      replace(body, h("p", {}, app.errorText(error)));
      return;
    }
    if (this.alertId !== alertId) return;
    this.render(file);
  }

  render(file) {
    const {app} = this;
    const {i18n} = app;
    const alert = file.alert;
    byId("detail-title").textContent = headline(alert, i18n);
    const sections = [
      h("p", {class: "badges"},
        h("span", {class: `badge tlp tlp-${String(alert.tlp).replace("+", "-")}`}, tlpLabel(alert.tlp)),
        alert.status !== "actual" ? h("span", {class: "status-banner"}, i18n.choice("status_banner", alert.status)) : null,
        file.cancellation ? h("span", {class: "cancelled-banner"}, app.t("card.cancelled")) : null),
      this.notices(alert),
      h("dl", {class: "facts detail-facts"}, this.fields(alert)),
    ];
    if (file.updates?.length) {
      sections.push(h("h3", {}, app.t("detail.updates")),
        h("ol", {class: "history-list"}, file.updates.map((item) => h("li", {},
          h("p", {}, `${formatTime(item.alert.received_at, i18n.language)} · seq ${item.seq}`),
          this.notices(item.alert),
          h("dl", {class: "facts"}, this.fields(item.alert))))));
    }
    if (file.cancellation) {
      const cancel = file.cancellation.alert;
      sections.push(h("h3", {}, app.t("detail.cancellation")),
        h("p", {}, [formatTime(cancel.received_at, i18n.language), cancel.summary].filter(Boolean).join(" · ")),
        this.notices(cancel));
    }
    sections.push(h("h3", {}, app.t("detail.receipts")));
    sections.push(file.receipts?.length
      ? h("ul", {class: "receipts"}, file.receipts.map(({receipt}) => h("li", {},
        h("strong", {}, i18n.choice("receipt", receipt.status)), ` · ${receipt.unit} · ${formatTime(receipt.at, i18n.language)}`,
        receipt.note ? ` · ${receipt.note}` : "")))
      : h("p", {}, app.t("detail.no_receipts")));
    if (file.deliveries?.length) {
      sections.push(h("h3", {}, app.t("detail.deliveries")),
        h("div", {class: "table-wrap", tabindex: 0, role: "region", "aria-labelledby": "deliveries-caption"}, h("table", {class: "data"},
          h("caption", {class: "visually-hidden", id: "deliveries-caption"}, app.t("detail.deliveries")),
          h("thead", {}, h("tr", {},
            h("th", {scope: "col"}, app.t("detail.delivery_unit")),
            h("th", {scope: "col"}, app.t("detail.delivered_at")),
            h("th", {scope: "col"}, app.t("detail.first_receipt")))),
          h("tbody", {}, file.deliveries.map((line) => h("tr", {},
            h("td", {}, line.unit),
            h("td", {}, formatTime(line.delivered_at, i18n.language)),
            h("td", {}, line.receipt_status
              ? `${i18n.choice("receipt", line.receipt_status)} · ${formatTime(line.acknowledged_at, i18n.language)}` : "—")))))));
    }
    const mayAnswer = alert.origin_unit !== app.unit && (app.has("subscribe") || app.has("publish"));
    if (mayAnswer && !file.cancellation) {
      const noteId = "detail-note";
      sections.push(h("h3", {}, app.t("card.answer")),
        h("div", {class: "field"},
          h("label", {for: noteId}, app.t("detail.note")),
          h("textarea", {id: noteId, rows: 2, maxlength: 2000})),
        receiptButtons(app, alert.alert_id, "detail-title", () => byId(noteId)?.value.trim() || ""));
    }
    replace(byId("detail-body"), sections);
  }

  /** The protection notices of one version of the alert, each a paragraph. */
  notices(alert) {
    return protectionNotices(alert, this.app.i18n).map((notice) => h("p", {class: "protection-notice"}, notice));
  }

  fields(alert) {
    const {app} = this;
    const out = [];
    const hidden = hiddenName(alert, app.i18n);
    for (const [key, label] of FIELDS) {
      if (alert[key] === undefined || alert[key] === null) continue;
      out.push(h("dt", {}, app.t(label)), h("dd", {}, this.value(key, alert[key], hidden)));
    }
    return out;
  }

  value(key, value, hidden = "") {
    const {app} = this;
    const {i18n} = app;
    if (key in CHOICE_OF) return i18n.choice(CHOICE_OF[key], value);
    if (key === "tlp") return tlpLabel(value);
    if (key === "distribution") return distributionText(value, i18n);
    if (TIMES.has(key)) return formatTime(value, i18n.language);
    if (key === "subjects" || key === "seizures") {
      if (!Array.isArray(value)) return String(value);
      return h("ol", {}, value.map((item) => h("li", {}, key === "subjects"
        ? this.record(hidden && !item?.surname ? {role: item?.role, surname: hidden, ...item} : item, "subject_role")
        : this.record(item, null))));
    }
    if (Array.isArray(value)) return value.join(", ");
    if (value && typeof value === "object") return this.record(value);
    return String(value);
  }

  record(record, roleList) {
    const {app} = this;
    const parts = [];
    for (const [key, value] of Object.entries(record && typeof record === "object" ? record : {})) {
      if (value === undefined || value === null) continue;
      let text;
      if (key === "role" && roleList) text = app.i18n.choice(roleList, value);
      else if (key === "commodity") text = app.i18n.choice("commodity", value);
      else if (TIMES.has(key)) text = formatTime(value, app.i18n.language);
      else if (Array.isArray(value)) text = value.join(", ");
      else if (value && typeof value === "object") text = Object.values(value).join(" · ");
      else text = String(value);
      const label = SUB_LABELS[key] ? app.t(SUB_LABELS[key]) : key;
      parts.push(h("span", {class: "pair"}, app.t("card.pair", {label, value: text})));
    }
    return h("span", {class: "record"}, parts);
  }
}
