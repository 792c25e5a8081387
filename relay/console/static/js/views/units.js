// The operator's view (console.md "admin", admin.md "HTTP"): units listed, added,
// edited, suspended and reinstated; tokens issued (shown once, with a copy button),
// listed and revoked.

import {ApiError} from "../api.js";
import {byId, h, replace} from "../dom.js";
import {formatTime} from "../format.js";

const ROLES = ["publish", "subscribe", "audit", "admin"];

export class UnitsView {
  constructor(app) {
    this.app = app;
    this.units = [];
    this.remoteUnits = [];
    this.selected = null; // the unit whose panel is open
    this.tokens = [];
    for (const container of document.querySelectorAll("[data-roles]")) {
      const prefix = container.dataset.roles;
      replace(container, ROLES.map((role) => h("label", {class: "check"},
        h("input", {type: "checkbox", name: `${prefix}-roles`, value: role, id: `${prefix}-role-${role}`}), " ",
        h("span", {dataset: {i18n: `choice.role.${role}`}}, app.i18n.choice("role", role)))));
    }
    byId("unit-add").addEventListener("submit", (event) => {
      event.preventDefault();
      this.add();
    });
    byId("unit-edit").addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    byId("token-issue").addEventListener("submit", (event) => {
      event.preventDefault();
      this.issue();
    });
    byId("token-copy").addEventListener("click", () => this.copy());
    byId("token-done").addEventListener("click", () => this.hideToken());
  }

  referenceLoaded() {
    const select = byId("add-country");
    const keep = select.value;
    const pairs = this.app.countryOptions();
    select.replaceChildren(...pairs.map(([code, label]) => h("option", {value: code, selected: code === keep}, label)));
  }

  shown() {
    this.load();
  }

  relabel() {
    if (this.app.reference) this.referenceLoaded();
    this.renderUnits();
    if (this.selected) this.renderPanel();
  }

  reset() {
    this.units = [];
    this.remoteUnits = [];
    this.selected = null;
    this.hideToken();
    replace(byId("units-rows"));
    byId("unit-panel").hidden = true;
  }

  async call(method, path, body, form) {
    try {
      const result = await this.app.api.call(method, path, {body});
      await this.problems([], form);
      return result;
    } catch (error) {
      if (error instanceof ApiError && error.details.length) await this.problems(error.details, form);
      else {
        await this.problems([], form);
        this.app.notify(this.app.errorText(error));
      }
      return undefined;
    }
  }

  async load() {
    const result = await this.call("GET", "/v1/admin/units");
    if (!result) return;
    this.units = result.units;
    this.remoteUnits = result.remote_units || [];
    this.renderUnits();
    if (this.selected) {
      this.selected = this.units.find((unit) => unit.unit_id === this.selected.unit_id) || null;
      if (this.selected) this.loadTokens();
      else byId("unit-panel").hidden = true;
    }
  }

  renderUnits() {
    const {app} = this;
    replace(byId("units-rows"), this.units.map((unit) => {
      const nameId = `unit-${unit.unit_id}`;
      return h("tr", {class: unit.suspended ? "suspended" : ""},
        h("th", {scope: "row", id: nameId}, unit.unit_id, unit.name ? h("span", {class: "sub"}, ` ${unit.name}`) : null),
        h("td", {}, [unit.country, unit.airport].filter(Boolean).join(" · ")),
        h("td", {}, unit.roles.map((role) => app.i18n.choice("role", role)).join(", ")),
        h("td", {}, unit.suspended
          ? app.t("units.suspended_since", {time: formatTime(unit.suspended_at, app.i18n.language)})
          : app.t("units.active")),
        h("td", {}, String(unit.active_tokens)),
        h("td", {class: "row-actions"},
          h("button", {type: "button", class: "secondary", "aria-describedby": nameId,
            on: {click: () => this.select(unit)}}, app.t("units.manage")),
          h("button", {type: "button", class: "secondary", "aria-describedby": nameId,
            on: {click: () => this.suspend(unit, !unit.suspended)}},
          app.t(unit.suspended ? "units.reinstate" : "units.suspend"))));
    }));
    const remote = this.remoteUnits || [];
    byId("remote-units").hidden = remote.length === 0;
    replace(byId("remote-units-rows"), remote.map((unit) => h("tr", {},
      h("th", {scope: "row"}, unit.unit_id, unit.name ? h("span", {class: "sub"}, ` ${unit.name}`) : null),
      h("td", {}, [unit.country, unit.airport].filter(Boolean).join(" · ")),
      h("td", {}, unit.relay))));
  }

  select(unit) {
    this.selected = unit;
    byId("edit-name").value = unit.name || "";
    byId("edit-airport").value = unit.airport || "";
    for (const input of document.querySelectorAll("input[name=edit-roles]")) input.checked = unit.roles.includes(input.value);
    this.renderPanel();
    byId("unit-panel").hidden = false;
    this.loadTokens();
    byId("unit-panel").scrollIntoView({block: "start"});
  }

  renderPanel() {
    byId("unit-panel-title").textContent = this.app.t("units.panel_title", {unit: this.selected.unit_id});
    this.renderTokens();
  }

  async suspend(unit, suspended) {
    const result = await this.call("PATCH", `/v1/admin/units/${encodeURIComponent(unit.unit_id)}`, {suspended});
    if (!result) return;
    this.app.notify(this.app.t(suspended ? "units.suspended_notice" : "units.reinstated_notice", {unit: unit.unit_id}));
    this.load();
  }

  async save() {
    const unit = this.selected;
    const roles = [...document.querySelectorAll("input[name=edit-roles]:checked")].map((input) => input.value);
    const airport = byId("edit-airport").value.trim().toUpperCase();
    const result = await this.call("PATCH", `/v1/admin/units/${encodeURIComponent(unit.unit_id)}`,
      {name: byId("edit-name").value.trim(), airport: airport || null, roles}, byId("unit-edit"));
    if (!result) return;
    this.app.notify(this.app.t("units.saved_notice", {unit: unit.unit_id}));
    this.load();
  }

  async add() {
    const roles = [...document.querySelectorAll("input[name=add-roles]:checked")].map((input) => input.value);
    const airport = byId("add-airport").value.trim().toUpperCase();
    const unitId = byId("add-unit-id").value.trim();
    const body = {unit_id: unitId, country: byId("add-country").value, name: byId("add-name").value.trim(), roles};
    if (airport) body.airport = airport;
    const result = await this.call("POST", "/v1/admin/units", body, byId("unit-add"));
    if (!result) return;
    byId("unit-add").reset();
    this.showToken(result.unit.unit_id, result.token, result.token_id);
    this.load();
  }

  async loadTokens() {
    const unit = this.selected;
    const result = await this.call("GET", `/v1/admin/units/${encodeURIComponent(unit.unit_id)}/tokens`);
    if (!result || this.selected !== unit) return;
    this.tokens = result.tokens;
    this.renderTokens();
  }

  renderTokens() {
    const {app} = this;
    const language = app.i18n.language;
    replace(byId("token-rows"), this.tokens.map((token) => {
      const idCell = `token-${token.token_id}`;
      const state = token.revoked_at ? app.t("units.token_revoked", {time: formatTime(token.revoked_at, language)})
        : token.expires_at && new Date(token.expires_at) <= new Date() ? app.t("units.token_expired") : app.t("units.active");
      return h("tr", {},
        h("th", {scope: "row", id: idCell}, h("code", {}, token.token_id), token.label ? h("span", {class: "sub"}, ` ${token.label}`) : null),
        h("td", {}, formatTime(token.created_at, language, {seconds: false})),
        h("td", {}, token.expires_at ? formatTime(token.expires_at, language, {seconds: false}) : app.t("units.never")),
        h("td", {}, token.last_used_at ? formatTime(token.last_used_at, language, {seconds: false}) : app.t("units.never")),
        h("td", {}, state),
        h("td", {}, token.revoked_at ? null : h("button", {type: "button", class: "danger", "aria-describedby": idCell,
          on: {click: () => this.revoke(token)}}, app.t("units.revoke"))));
    }));
  }

  async issue() {
    const unit = this.selected;
    const days = byId("issue-days").value.trim();
    const body = {label: byId("issue-label").value.trim()};
    if (days) body.expires_in_days = Number(days);
    const result = await this.call("POST", `/v1/admin/units/${encodeURIComponent(unit.unit_id)}/tokens`, body, byId("token-issue"));
    if (!result) return;
    byId("token-issue").reset();
    this.showToken(unit.unit_id, result.token, result.token_id);
    this.load();
  }

  async revoke(token) {
    const result = await this.call("DELETE", `/v1/admin/tokens/${encodeURIComponent(token.token_id)}`);
    if (result === undefined) return;
    this.app.notify(this.app.t("units.revoked_notice", {token: token.token_id}));
    this.load();
  }

  showToken(unitId, token, tokenId) {
    byId("token-shown-for").textContent = this.app.t("units.token_for", {unit: unitId, token_id: tokenId});
    byId("token-value").textContent = token;
    byId("token-shown").hidden = false;
    byId("token-shown").focus();
  }

  hideToken() {
    byId("token-value").textContent = "";
    byId("token-shown").hidden = true;
  }

  async copy() {
    try {
      await navigator.clipboard.writeText(byId("token-value").textContent);
      this.app.notify(this.app.t("units.copied"));
    } catch {
      const range = document.createRange();
      range.selectNodeContents(byId("token-value"));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      this.app.notify(this.app.t("units.copy_by_hand"));
    }
  }

  /** The relay's problems beside the fields of ``form`` and in the summary. */
  async problems(details, form) {
    const summary = byId("units-errors");
    for (const old of document.querySelectorAll("#view-units .field-error")) old.remove();
    for (const control of document.querySelectorAll("#view-units [aria-invalid]")) control.removeAttribute("aria-invalid");
    if (!details.length) {
      summary.hidden = true;
      return;
    }
    const sentences = await this.app.sentences(details);
    replace(byId("units-errors-list"), details.map((detail, index) => {
      const field = String(detail.field || "").replace(/\[\d+\]$/, "");
      const box = form?.querySelector(`[data-field-box="${field}"]`);
      const label = box?.querySelector("label, legend")?.textContent || detail.field;
      if (box) {
        box.append(h("p", {class: "field-error"}, sentences[index]));
        box.querySelector("input, select")?.setAttribute("aria-invalid", "true");
      }
      return h("li", {}, this.app.t("form.problem_line", {label, problem: sentences[index]}));
    }));
    summary.hidden = false;
    summary.focus();
  }
}
