// The alert form and the browser's outbox (console.md "publish"): both kinds with every
// field of alerts.md, airports and countries from the real lists, the distribution among
// the relay's units, countries and regions, the relay's problems beside their fields,
// updates and cancellations of the unit's own alerts.

import {byId, h, newId, options, replace} from "../dom.js";
import {formatTime, protectionNotices} from "../format.js";
import {alertFromValues, blankSeizure, blankSubject, blankValues, locate, valuesFromAlert} from "../form_model.js";
import {sendEntry} from "../outbox.js";

const RETRY_MS = 5000;
const SHOWN_ACKNOWLEDGED = 20;

export class FormView {
  constructor(app) {
    this.app = app;
    this.form = byId("alert-form");
    this.mode = null; // {msgType, references, label} while updating or cancelling
    this.rejectedKey = null; // the outbox entry the form is fixing
    this.acknowledged = []; // this session's acknowledged entries, shown, never stored
    this.flushing = false;
    this.retryTimer = null;
    this.problems = [];
    this.items = {subjects: 0, seizures: 0};
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    byId("f-kind").addEventListener("change", () => this.showKind());
    byId("f-distribution").addEventListener("change", () => this.showDistribution());
    byId("add-subject").addEventListener("click", () => this.addItem("subjects", blankSubject(), true));
    byId("add-seizure").addEventListener("click", () => this.addItem("seizures", blankSeizure(), true));
    byId("form-mode-stop").addEventListener("click", () => this.clear());
    byId("mine-refresh").addEventListener("click", () => this.loadMine());
    this.write(blankValues(app.i18n.language));
  }

  // -- lists from the relay ----------------------------------------------------------------

  referenceLoaded(reference) {
    const {i18n} = this.app;
    for (const select of document.querySelectorAll("#view-new-alert select[data-choices]")) this.fillChoices(select, reference);
    const indicators = byId("indicator-choices");
    const chosen = new Set([...indicators.querySelectorAll("input:checked")].map((input) => input.value));
    replace(indicators, reference.choices.indicator.map((name) => h("label", {class: "check"},
      h("input", {type: "checkbox", name: "indicator", value: name, checked: chosen.has(name)}), " ",
      h("span", {}, i18n.choice("indicator", name)))));
    const airports = byId("airport-list");
    if (!airports.childElementCount) {
      airports.append(...Object.entries(reference.airports).map(([code, [name, city, country]]) =>
        h("option", {value: code}, `${name}, ${city} (${country})`)));
    }
    const units = byId("quantity-units");
    if (!units.childElementCount) {
      units.append(...[...reference.choices.quantity_unit, ...reference.currencies].map((code) => h("option", {value: code})));
    }
    this.fillCountries();
  }

  fillChoices(select, reference) {
    const list = reference.choices[select.dataset.choices];
    if (!list) return;
    const keep = select.value;
    const blank = [...select.options].find((option) => option.value === "");
    const pairs = list.map((value) => [value, this.app.i18n.choice(select.dataset.choices, value)]);
    options(select, blank ? [["", blank.textContent], ...pairs] : pairs, keep);
    if (blank) select.options[0].dataset.i18n = blank.dataset.i18n || "form.none";
  }

  fillCountries() {
    if (!this.app.reference) return;
    const pairs = this.app.countryOptions();
    const distribution = byId("f-distribution-countries");
    options(distribution, pairs, [...distribution.selectedOptions].map((o) => o.value));
    for (const select of this.form.querySelectorAll("select[data-countries]")) {
      options(select, [["", this.app.t("form.none")], ...pairs], select.value);
    }
  }

  async fillDirectory() {
    const directory = await this.app.loadDirectory();
    if (!directory) return;
    const units = byId("f-distribution-units");
    const chosenUnits = [...units.selectedOptions].map((o) => o.value);
    options(units, directory.units.map((unit) => [unit.unit_id, unit.name ? `${unit.unit_id} · ${unit.name}` : unit.unit_id]), chosenUnits);
    const regions = byId("f-distribution-regions");
    const chosenRegions = [...regions.selectedOptions].map((o) => o.value);
    options(regions, Object.entries(directory.regions).map(([name, countries]) => [name, `${name} (${countries.join(", ")})`]), chosenRegions);
    if (this.pendingDistribution) {
      this.selectMany(units, this.pendingDistribution.units);
      this.selectMany(regions, this.pendingDistribution.regions);
      this.pendingDistribution = null;
    }
  }

  // -- the view's life ---------------------------------------------------------------------

  entered() {
    if (!this.app.has("publish")) return;
    this.renderOutbox();
  }

  shown() {
    this.fillDirectory();
    this.renderOutbox();
    this.loadMine();
  }

  welcomed() {
    if (!this.app.has("publish")) return;
    this.app.directory = null;
    this.fillDirectory(); // kept in the tab, for a distribution written with no link
    this.flush();
  }

  relabel() {
    for (const kind of ["subjects", "seizures"]) this.numberItems(kind);
    if (this.app.reference) this.referenceLoaded(this.app.reference);
    this.showMode();
    this.renderOutbox();
    if (this.problems.length) this.showProblems(this.problems);
    if (!byId("view-new-alert").hidden) this.loadMine();
  }

  reset() {
    clearTimeout(this.retryTimer);
    this.acknowledged = [];
    this.clear();
    replace(byId("outbox"));
    replace(byId("my-alerts"));
  }

  // -- values in and out of the form -------------------------------------------------------

  read() {
    const values = blankValues();
    const field = (name) => this.form.querySelector(`[data-field="${name}"]:not(.items)`);
    for (const name of ["kind", "status", "priority", "tlp", "summary", "language", "expires_at",
      "requested_action", "concealment", "detection", "location", "occurred_at"]) {
      values[name] = field(name).value;
    }
    values.msg_type = this.mode?.msgType || "alert";
    values.references = this.mode?.references || "";
    values.ext = this.mode?.ext || null;
    values.distribution = {
      mode: byId("f-distribution").value,
      units: [...byId("f-distribution-units").selectedOptions].map((o) => o.value),
      countries: [...byId("f-distribution-countries").selectedOptions].map((o) => o.value),
      regions: [...byId("f-distribution-regions").selectedOptions].map((o) => o.value),
    };
    for (const name of ["number", "date", "origin", "destination", "route", "scheduled_arrival"]) {
      values.flight[name] = field(`flight.${name}`).value;
    }
    values.grading = {source: field("grading.source").value, information: field("grading.information").value};
    values.indicators = [...byId("indicator-choices").querySelectorAll("input:checked")].map((input) => input.value);
    values.indicators_other = byId("f-indicators-other").value;
    for (const kind of ["subjects", "seizures"]) {
      values[kind] = [...byId(kind).children].map((item) => Object.fromEntries(
        [...item.querySelectorAll("[data-field]")].map((input) => [input.dataset.field, input.value])));
    }
    return values;
  }

  write(values) {
    const field = (name) => this.form.querySelector(`[data-field="${name}"]:not(.items)`);
    for (const name of ["kind", "status", "priority", "tlp", "summary", "language", "expires_at",
      "requested_action", "concealment", "detection", "location", "occurred_at"]) {
      field(name).value = values[name] ?? "";
    }
    for (const name of ["number", "date", "origin", "destination", "route", "scheduled_arrival"]) {
      field(`flight.${name}`).value = values.flight[name] ?? "";
    }
    field("grading.source").value = values.grading.source;
    field("grading.information").value = values.grading.information;
    byId("f-distribution").value = values.distribution.mode;
    this.selectMany(byId("f-distribution-units"), values.distribution.units);
    this.selectMany(byId("f-distribution-countries"), values.distribution.countries);
    this.selectMany(byId("f-distribution-regions"), values.distribution.regions);
    this.pendingDistribution = values.distribution;
    for (const input of byId("indicator-choices").querySelectorAll("input")) input.checked = values.indicators.includes(input.value);
    byId("f-indicators-other").value = values.indicators_other;
    for (const kind of ["subjects", "seizures"]) {
      replace(byId(kind));
      for (const item of values[kind]) this.addItem(kind, item);
    }
    this.showKind();
    this.showDistribution();
  }

  selectMany(select, values) {
    const wanted = new Set(values || []);
    for (const option of select.options) option.selected = wanted.has(option.value);
  }

  addItem(kind, values, focus = false) {
    const template = byId(kind === "subjects" ? "subject-template" : "seizure-template");
    const item = template.content.firstElementChild.cloneNode(true);
    const number = this.items[kind]++;
    for (const box of item.querySelectorAll("[data-field-box]")) {
      const input = box.querySelector("[data-field]");
      const id = `${kind}-${number}-${input.dataset.field.replace(".", "-")}`;
      input.id = id;
      box.querySelector("label").htmlFor = id;
      if (input.tagName === "SELECT" && input.dataset.choices && this.app.reference) this.fillChoices(input, this.app.reference);
      if (input.tagName === "SELECT" && "countries" in input.dataset && this.app.reference) {
        options(input, [["", this.app.t("form.none")], ...this.app.countryOptions()]);
      }
      input.value = values[input.dataset.field] ?? "";
    }
    item.querySelector(".remove").addEventListener("click", () => {
      item.remove();
      this.numberItems(kind);
      byId(kind).focus();
    });
    this.app.i18n.apply(item);
    byId(kind).append(item);
    this.numberItems(kind);
    if (focus) item.querySelector("[data-field]").focus();
  }

  numberItems(kind) {
    [...byId(kind).children].forEach((item, index) => {
      item.querySelector(".item-title").textContent = this.app.t(kind === "subjects" ? "form.subject_n" : "form.seizure_n", {n: index + 1});
      item.querySelector(".remove").hidden = byId(kind).children.length === 1;
    });
  }

  showKind() {
    const passenger = byId("f-kind").value === "passenger";
    for (const node of document.querySelectorAll("#view-new-alert .only-passenger")) node.hidden = !passenger;
    for (const node of document.querySelectorAll("#view-new-alert .only-seizure")) node.hidden = passenger;
  }

  showDistribution() {
    byId("distribution-lists").hidden = byId("f-distribution").value === "all";
  }

  showMode() {
    const box = byId("form-mode");
    box.hidden = !this.mode;
    byId("f-kind").disabled = Boolean(this.mode);
    if (this.mode) {
      byId("form-mode-text").textContent = this.app.t(this.mode.msgType === "update" ? "form.updating" : "form.cancelling",
        {summary: this.mode.label});
    }
  }

  /** Start an update or a cancel of one of the unit's alerts (``key`` is its id). */
  async edit(alert, msgType, key) {
    location.hash = "#new-alert";
    let latest = alert;
    try {
      const file = await this.app.api.get(`/v1/alerts/${encodeURIComponent(key)}`);
      latest = file.updates?.length ? file.updates.at(-1).alert : file.alert;
    } catch {
      // offline: the content at hand
    }
    this.clear();
    const values = valuesFromAlert({...latest, alert_id: key}, msgType, this.app.reference?.choices.indicator || []);
    this.mode = {msgType, references: key, label: (latest.summary || "").slice(0, 80), ext: values.ext};
    this.write(values);
    this.showMode();
    byId("f-summary").focus();
  }

  clear() {
    this.mode = null;
    this.rejectedKey = null;
    this.write(blankValues(this.app.i18n.language));
    this.showProblems([]);
    this.showMode();
  }

  // -- problems beside their fields (GOV.UK's error summary and inline errors) ---------------

  elementFor(path) {
    const place = locate(path);
    if (place.list) {
      const item = byId(place.list).children[place.index];
      if (!item) return byId(place.list);
      return (place.field && item.querySelector(`[data-field="${place.field}"]`)) || item.querySelector("[data-field]");
    }
    return place.field ? this.form.querySelector(`[data-field="${place.field}"]`) : null;
  }

  async showProblems(details) {
    this.problems = details;
    for (const old of this.form.querySelectorAll(".field-error")) old.remove();
    for (const input of this.form.querySelectorAll("[aria-invalid]")) {
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", (input.getAttribute("aria-describedby") || "").split(" ")
        .filter((id) => !id.endsWith("-error")).join(" "));
    }
    const summary = byId("form-errors");
    if (!details.length) {
      summary.hidden = true;
      return;
    }
    const sentences = await this.app.sentences(details);
    const items = [];
    details.forEach((detail, index) => {
      const element = this.elementFor(detail.field || "");
      const sentence = sentences[index];
      if (!element) {
        const whole = !detail.field || detail.field === "alert";
        items.push(h("li", {}, this.app.t("form.problem_line",
          {label: whole ? this.app.t("form.section_alert") : detail.field, problem: sentence})));
        return;
      }
      const label = this.labelOf(element) || detail.field;
      const box = element.closest("[data-field-box]") || element.parentElement;
      const errorId = `${element.id || box.dataset.fieldBox}-error`;
      let error = box.querySelector(`:scope > .field-error`);
      if (!error) {
        error = h("p", {class: "field-error", id: errorId});
        box.append(error);
      }
      error.append(h("span", {class: "visually-hidden"}, `${this.app.t("form.error_prefix")} `), `${sentence} `);
      element.setAttribute("aria-invalid", "true");
      const described = new Set((element.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
      described.add(errorId);
      element.setAttribute("aria-describedby", [...described].join(" "));
      items.push(h("li", {}, h("a", {href: `#${element.id}`, on: {click: (event) => {
        event.preventDefault();
        element.focus();
      }}}, this.app.t("form.problem_line", {label, problem: sentence}))));
    });
    replace(byId("form-errors-list"), items);
    summary.hidden = false;
    summary.focus();
  }

  labelOf(element) {
    if (element.id) {
      const label = this.form.querySelector(`label[for="${element.id}"]`);
      if (label) {
        const item = element.closest(".item");
        const prefix = item ? `${item.querySelector(".item-title").textContent}, ` : "";
        return prefix + label.textContent;
      }
    }
    return element.closest("fieldset")?.querySelector("legend")?.textContent || "";
  }

  // -- sending, and the outbox -------------------------------------------------------------

  async submit() {
    const {app} = this;
    if (!app.outbox) {
      app.notify(app.t("outbox.unavailable"));
      return;
    }
    const alert = alertFromValues(this.read(), new Date().toISOString());
    if (this.rejectedKey) await app.outbox.remove(this.rejectedKey);
    const entry = await app.outbox.add({key: newId(), unit: app.unit, alert});
    this.rejectedKey = entry.key;
    this.renderOutbox();
    if (!app.stream?.connected) {
      this.clear();
      app.notify(app.t("outbox.queued_offline"));
      return;
    }
    byId("send").disabled = true;
    try {
      const result = await sendEntry(app.outbox, entry, (frame) => app.stream.request(frame));
      this.outcome(entry, result, true);
    } finally {
      byId("send").disabled = false;
    }
  }

  outcome(entry, {outcome, reply}, fromForm) {
    const {app} = this;
    if (outcome === "acknowledged") {
      this.acknowledged.unshift({key: entry.key, label: entry.label, seq: reply.seq, alert_id: reply.alert_id, at: new Date().toISOString()});
      this.acknowledged.length = Math.min(this.acknowledged.length, SHOWN_ACKNOWLEDGED);
      if (fromForm) this.clear();
      app.notify(app.t("outbox.acknowledged_notice", {seq: reply.seq}));
      this.loadMine();
    } else if (outcome === "rejected") {
      if (fromForm) {
        this.showProblems(reply.details?.length ? reply.details : [{field: "alert", problem: app.errorText(reply), code: null}]);
      } else {
        app.notify(app.t("outbox.rejected_notice", {label: entry.label}));
      }
    } else {
      if (fromForm) this.clear();
      app.notify(app.t("outbox.queued_offline"));
      this.scheduleRetry();
    }
    this.renderOutbox();
  }

  scheduleRetry() {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.flush(), RETRY_MS);
  }

  /** Send every queued entry of the unit, oldest first, with its own key. */
  async flush() {
    const {app} = this;
    if (this.flushing || !app.outbox || !app.has("publish")) return;
    this.flushing = true;
    try {
      const unit = app.unit;
      for (const entry of await app.outbox.list(unit)) {
        if (entry.state === "rejected" || !app.stream?.connected || app.unit !== unit) continue;
        const result = await sendEntry(app.outbox, entry, (frame) => app.stream.request(frame));
        this.outcome(entry, result, false);
        if (result.outcome === "queued") break;
      }
    } finally {
      this.flushing = false;
      this.renderOutbox();
    }
  }

  async renderOutbox() {
    const {app} = this;
    if (!app.outbox || !app.unit) return;
    const unit = app.unit;
    const entries = await app.outbox.list(unit);
    if (app.unit !== unit) return;
    const items = entries.map((entry) => h("li", {class: `outbox-entry state-${entry.state}`, dataset: {key: entry.key}},
      h("span", {class: `state state-${entry.state}`}, app.t(`outbox.${entry.state === "sent" ? "sent" : entry.state}`)),
      h("span", {class: "label"}, entry.label || app.t("outbox.no_summary")),
      h("span", {class: "time"}, formatTime(entry.created_at, app.i18n.language)),
      entry.state === "rejected" ? h("span", {class: "entry-actions"},
        h("button", {type: "button", class: "secondary", on: {click: () => this.fix(entry)}}, app.t("outbox.fix")),
        h("button", {type: "button", class: "secondary", on: {click: () => this.discard(entry)}}, app.t("outbox.discard"))) : null));
    for (const done of this.acknowledged) {
      items.push(h("li", {class: "outbox-entry state-acknowledged", dataset: {key: done.key}},
        h("span", {class: "state state-acknowledged"}, app.t("outbox.acknowledged")),
        h("span", {class: "label"}, done.label || app.t("outbox.no_summary")),
        h("span", {class: "time"}, `${formatTime(done.at, app.i18n.language)} · seq ${done.seq}`)));
    }
    replace(byId("outbox"), items.length ? items : h("li", {class: "empty"}, app.t("outbox.empty")));
  }

  async fix(entry) {
    this.clear();
    const alert = entry.alert;
    const values = valuesFromAlert({...alert, alert_id: alert.references}, alert.msg_type || "alert",
      this.app.reference?.choices.indicator || []);
    if (alert.msg_type && alert.msg_type !== "alert") {
      this.mode = {msgType: alert.msg_type, references: alert.references, label: entry.label, ext: values.ext};
    } else {
      values.references = "";
      this.mode = null;
    }
    this.write(values);
    this.showMode();
    this.rejectedKey = entry.key;
    await this.showProblems(entry.details?.length ? entry.details
      : [{field: "alert", problem: this.app.errorText({code: entry.code}), code: null}]);
  }

  async discard(entry) {
    await this.app.outbox.remove(entry.key);
    if (this.rejectedKey === entry.key) this.rejectedKey = null;
    this.renderOutbox();
  }

  connectionChanged(state) {
    if (state === "connected") this.flush();
  }

  // -- the unit's own alerts -----------------------------------------------------------------

  async loadMine() {
    const {app} = this;
    if (!app.unit || !app.has("publish")) return;
    let page;
    try {
      page = await app.api.get("/v1/alerts", {origin_unit: app.unit, limit: 20});
    } catch {
      return; // offline: the list stays as it was
    }
    const originals = page.alerts.filter(({alert}) => (alert.msg_type || "alert") === "alert");
    replace(byId("my-alerts"), originals.length ? originals.map(({seq, alert}) => {
      const titleId = `mine-${alert.alert_id}`;
      const notices = protectionNotices(alert, app.i18n);
      return h("li", {},
        h("span", {id: titleId, class: "label"},
          [formatTime(alert.received_at, app.i18n.language), alert.summary ?? app.t("outbox.no_summary")].join(" · "),
          notices.length ? h("span", {class: "protection-notice"}, ` ${notices.join(" ")}`) : null),
        alert.reduced_at ? null : h("span", {class: "entry-actions"},
          h("button", {type: "button", class: "secondary", "aria-describedby": titleId,
            on: {click: () => this.edit(alert, "update", alert.alert_id)}}, app.t("card.update")),
          h("button", {type: "button", class: "secondary", "aria-describedby": titleId,
            on: {click: () => this.edit(alert, "cancel", alert.alert_id)}}, app.t("card.cancel"))),
        h("span", {class: "visually-hidden"}, ` seq ${seq}`));
    }) : h("li", {class: "empty"}, app.t("mine.empty")));
  }
}
