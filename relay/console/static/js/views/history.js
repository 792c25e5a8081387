// The history (GET /v1/alerts): every filter, pages by cursor, each alert opened; a
// masked or reduced alert says so beside its summary (protection.md).

import {ApiError} from "../api.js";
import {byId, h, replace} from "../dom.js";
import {formatTime, headline, protectionNotices} from "../format.js";
import {SearchForm} from "./search.js";

export class HistoryView {
  constructor(app) {
    this.app = app;
    this.params = {};
    this.next = null;
    this.loaded = false;
    this.search = new SearchForm(app, byId("history-form"), {
      prefix: "history", paged: true, submitLabel: "search.submit",
      onSubmit: (params) => this.load(params, null),
    });
    // On a phone the filters would fill the screen: they start folded there.
    byId("history-filters").open = !matchMedia("(max-width: 40rem)").matches;
    byId("history-first").addEventListener("click", () => this.load(this.params, null));
    byId("history-next").addEventListener("click", () => this.load(this.params, this.next));
  }

  referenceLoaded(reference) {
    this.search.fill(reference);
  }

  shown() {
    if (!this.loaded) this.load({}, null);
  }

  relabel() {
    if (this.app.reference) this.search.fill(this.app.reference);
    if (this.page) this.render(this.page, this.cursor);
  }

  reset() {
    this.loaded = false;
    this.page = null;
    replace(byId("history-rows"));
  }

  async load(params, cursor) {
    const {app} = this;
    this.params = params;
    this.loaded = true;
    try {
      const page = await app.api.get("/v1/alerts", {...params, cursor});
      await this.search.showProblems([], byId("history-errors"));
      this.render(page, cursor);
    } catch (error) {
      if (error instanceof ApiError && error.details.length) {
        await this.search.showProblems(error.details, byId("history-errors"));
      } else {
        app.notify(app.errorText(error));
      }
    }
  }

  render(page, cursor) {
    const {app} = this;
    const {i18n} = app;
    this.page = page;
    this.cursor = cursor;
    this.next = page.next_cursor;
    replace(byId("history-rows"), page.alerts.map(({seq, alert}) => {
      const titleId = `history-${seq}`;
      return h("tr", {},
        h("td", {}, String(seq)),
        h("td", {}, formatTime(alert.received_at, i18n.language)),
        h("td", {id: titleId}, headline(alert, i18n),
          alert.status && alert.status !== "actual" ? h("strong", {class: "status-inline"}, ` ${i18n.choice("status_banner", alert.status)}`) : null,
          (alert.msg_type || "alert") !== "alert" ? h("span", {}, ` · ${i18n.choice("msg_type", alert.msg_type)}`) : null),
        h("td", {}, alert.origin_unit),
        h("td", {class: "summary-cell"}, alert.summary ?? "",
          protectionNotices(alert, i18n).map((notice) => h("p", {class: "protection-notice"}, notice))),
        h("td", {}, h("button", {type: "button", class: "secondary", "aria-describedby": titleId,
          on: {click: () => app.detail.open(alert.alert_id)}}, app.t("card.open"))));
    }));
    byId("history-empty").hidden = page.alerts.length > 0;
    byId("history-next").disabled = !page.next_cursor;
    byId("history-first").disabled = !cursor;
  }
}
