// The filters of GET /v1/alerts (protocol.md "HTTP API"), shared by the history search
// and the audit export: one form built the same way in both, read into query
// parameters, and the relay's problems shown beside the parameter they name.

import {h, options, replace} from "../dom.js";
import {utcFromInput} from "../format.js";

// parameter → [message id of its label, kind of control]
export const FILTERS = [
  ["kind", "search.kind", "choice:kind"],
  ["origin_unit", "search.origin_unit", "text"],
  ["airport", "search.airport", "airport"],
  ["country", "search.country", "country"],
  ["flight", "search.flight", "text"],
  ["commodity", "search.commodity", "choice:commodity"],
  ["from", "search.from", "time"],
  ["to", "search.to", "time"],
  ["q", "search.q", "search"],
];

export class SearchForm {
  /** ``form``: an empty <form>; ``prefix``: for the ids; ``paged``: with a page size. */
  constructor(app, form, {prefix, paged, submitLabel, onSubmit}) {
    this.app = app;
    this.form = form;
    this.prefix = prefix;
    this.paged = paged;
    this.submitLabel = submitLabel;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      onSubmit(this.params());
    });
    this.build();
  }

  build() {
    const {app} = this;
    const fields = FILTERS.map(([name, label, kind]) => this.field(name, label, kind));
    if (this.paged) {
      fields.push(h("div", {class: "field", dataset: {fieldBox: "limit"}},
        h("label", {for: `${this.prefix}-limit`, dataset: {i18n: "search.limit"}}, app.t("search.limit")),
        h("input", {id: `${this.prefix}-limit`, type: "number", min: 1, max: 500, value: "50", inputmode: "numeric", dataset: {param: "limit"}})));
    }
    if (this.submitLabel) {
      fields.push(h("div", {class: "actions"}, h("button", {type: "submit", dataset: {i18n: this.submitLabel}}, app.t(this.submitLabel))));
    }
    replace(this.form, fields);
  }

  field(name, label, kind) {
    const {app} = this;
    const id = `${this.prefix}-${name}`;
    let control;
    let hint = null;
    if (kind.startsWith("choice:")) {
      const list = kind.slice(7);
      control = h("select", {id, dataset: {param: name, choices: list}},
        h("option", {value: "", dataset: {i18n: "search.any"}}, app.t("search.any")));
    } else if (kind === "country") {
      control = h("select", {id, dataset: {param: name, countries: ""}},
        h("option", {value: "", dataset: {i18n: "search.any"}}, app.t("search.any")));
    } else if (kind === "time") {
      control = h("input", {id, type: "datetime-local", dataset: {param: name}, "aria-describedby": `${id}-hint`});
      hint = h("p", {id: `${id}-hint`, class: "hint", dataset: {i18n: "form.utc_hint"}}, app.t("form.utc_hint"));
    } else {
      control = h("input", {id, type: kind === "search" ? "search" : "text", autocomplete: "off",
        list: kind === "airport" ? "airport-list" : null, dataset: {param: name}});
    }
    return h("div", {class: "field", dataset: {fieldBox: name}},
      h("label", {for: id, dataset: {i18n: label}}, app.t(label)), control, hint);
  }

  /** The lists from the relay's reference document, once it is there. */
  fill(reference) {
    for (const select of this.form.querySelectorAll("select[data-choices]")) {
      const keep = select.value;
      options(select, [["", this.app.t("search.any")],
        ...reference.choices[select.dataset.choices].map((value) => [value, this.app.i18n.choice(select.dataset.choices, value)])], keep);
    }
    for (const select of this.form.querySelectorAll("select[data-countries]")) {
      const keep = select.value;
      options(select, [["", this.app.t("search.any")], ...this.app.countryOptions()], keep);
    }
  }

  /** The query parameters the form holds (empty ones left out). */
  params() {
    const params = {};
    for (const control of this.form.querySelectorAll("[data-param]")) {
      const value = control.value.trim();
      if (!value) continue;
      params[control.dataset.param] = control.type === "datetime-local" ? utcFromInput(value) : value;
    }
    return params;
  }

  /** Show the relay's problems (an ApiError's details) beside their parameters and in
   * ``summary`` (a box with a <ul>). */
  async showProblems(details, summary) {
    for (const old of this.form.querySelectorAll(".field-error")) old.remove();
    for (const control of this.form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
    const list = summary.querySelector("ul");
    if (!details.length) {
      summary.hidden = true;
      return;
    }
    const sentences = await this.app.sentences(details);
    const items = details.map((detail, index) => {
      const control = this.form.querySelector(`[data-param="${detail.field}"]`);
      if (!control) return h("li", {}, this.app.t("form.problem_line", {label: detail.field || "", problem: sentences[index]}));
      const errorId = `${control.id}-error`;
      control.closest(".field").append(h("p", {class: "field-error", id: errorId}, sentences[index]));
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", [control.getAttribute("aria-describedby"), errorId].filter(Boolean).join(" "));
      const label = this.form.querySelector(`label[for="${control.id}"]`)?.textContent || detail.field;
      return h("li", {}, h("a", {href: `#${control.id}`, on: {click: (event) => {
        event.preventDefault();
        control.focus();
      }}}, this.app.t("form.problem_line", {label, problem: sentences[index]})));
    });
    replace(list, items);
    summary.hidden = false;
    summary.focus();
  }
}
