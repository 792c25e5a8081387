// The auditor's view (console.md "audit"): the export downloaded as NDJSON or CSV (an
// NDJSON one then checked in the browser, hash by hash), the relay's own verification of
// its chain, and the access log.

import {ApiError} from "../api.js";
import {verifyExport} from "../chain.js";
import {byId, h, replace} from "../dom.js";
import {formatTime} from "../format.js";
import {SearchForm} from "./search.js";

const ACCESS_PAGE = 50;

export class AuditView {
  constructor(app) {
    this.app = app;
    this.search = new SearchForm(app, byId("export-form"), {prefix: "export", paged: false, onSubmit: () => this.download("ndjson")});
    byId("export-ndjson").addEventListener("click", () => this.download("ndjson"));
    byId("export-csv").addEventListener("click", () => this.download("csv"));
    byId("verify").addEventListener("click", () => this.verify());
    byId("access-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.loadAccess(null);
    });
    byId("access-first").addEventListener("click", () => this.loadAccess(null));
    byId("access-next").addEventListener("click", () => this.loadAccess(this.accessNext));
    this.accessNext = null;
    this.accessPage = null;
    this.lastExport = null;
    this.lastVerify = null;
  }

  referenceLoaded(reference) {
    this.search.fill(reference);
  }

  shown() {
    if (!this.accessPage) this.loadAccess(null);
  }

  relabel() {
    if (this.app.reference) this.search.fill(this.app.reference);
    if (this.accessPage) this.renderAccess(this.accessPage);
    if (this.lastExport) this.showExport(...this.lastExport);
    if (this.lastVerify) this.showVerify(this.lastVerify);
  }

  reset() {
    this.accessPage = null;
    this.lastExport = null;
    this.lastVerify = null;
    replace(byId("access-rows"));
    replace(byId("export-result"));
    replace(byId("verify-result"));
  }

  async download(format) {
    const {app} = this;
    const params = this.search.params();
    const result = byId("export-result");
    replace(result, app.t("audit.exporting"));
    let response;
    try {
      response = await app.api.raw("GET", "/v1/audit/export", {params: {...params, format}});
      await this.search.showProblems([], byId("export-errors"));
    } catch (error) {
      replace(result);
      if (error instanceof ApiError && error.details.length) await this.search.showProblems(error.details, byId("export-errors"));
      else app.notify(app.errorText(error));
      return;
    }
    let text;
    try {
      text = await response.text();
    } catch {
      replace(result, app.t("audit.export_cut"));
      return;
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
    const name = `relay-export-${stamp}Z.${format}`;
    const type = format === "csv" ? "text/csv" : "application/x-ndjson";
    const url = URL.createObjectURL(new Blob([text], {type}));
    const link = h("a", {href: url, download: name, hidden: true});
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    const report = format === "ndjson" ? await verifyExport(text, {filtered: Object.keys(params).length > 0}) : null;
    this.lastExport = [name, text, format, report];
    this.showExport(name, text, format, report);
    this.loadAccess(null); // the export is in the access log now
  }

  showExport(name, text, format, report) {
    const {app} = this;
    const {i18n} = app;
    const lines = text.split("\n").filter((line) => line.trim()).length;
    const parts = [h("p", {}, app.t(format === "csv" ? "audit.downloaded_csv" : "audit.downloaded",
      {name, count: (format === "csv" ? Math.max(0, lines - 1) : lines).toLocaleString(i18n.language)}))];
    if (report && report.verified) {
      parts.push(h("p", {class: "verdict intact"}, h("strong", {}, app.t("audit.export_intact")), " ",
        app.t("audit.export_intact_detail", {events: report.events, alerts: report.alerts, receipts: report.receipts,
          first: report.firstSeq, last: report.lastSeq, runs: report.runs}),
        h("br"), h("span", {class: "hash"}, app.t("audit.last_hash", {hash: report.lastHash}))));
      if (report.contentRemoved) parts.push(h("p", {}, app.t("audit.export_removed", {count: report.contentRemoved})));
    } else if (report) {
      const problem = report.problem;
      parts.push(h("p", {class: "verdict broken"}, h("strong", {}, app.t("audit.export_broken")), " ",
        app.t(`chain.${problem.code}`, {line: problem.line, seq: problem.seq ?? "?", ...(problem.params || {})})));
    }
    replace(byId("export-result"), parts);
  }

  async verify() {
    const {app} = this;
    replace(byId("verify-result"), app.t("audit.verifying"));
    try {
      this.lastVerify = await app.api.get("/v1/audit/verify");
      this.showVerify(this.lastVerify);
      this.loadAccess(null);
    } catch (error) {
      replace(byId("verify-result"), app.errorText(error));
    }
  }

  showVerify(report) {
    const {app} = this;
    const language = app.i18n.language;
    const element = byId("verify-result");
    if (report.intact) {
      replace(element, h("span", {class: "verdict intact"}, h("strong", {}, app.t("audit.intact")), " ",
        app.t("audit.intact_detail", {events: report.events.toLocaleString(language), head: report.head}),
        h("br"), h("span", {class: "hash"}, app.t("audit.head_hash", {hash: report.head_hash || ""}))));
    } else {
      replace(element, h("span", {class: "verdict broken"}, h("strong", {}, app.t("audit.broken")), " ",
        app.t("audit.broken_detail", {seq: report.first_broken_seq, events: report.events}),
        report.reason ? h("span", {lang: "en"}, ` (${app.t("audit.relay_says")} ${report.reason})`) : null));
    }
  }

  async loadAccess(cursor) {
    const {app} = this;
    const unit = byId("access-unit").value.trim();
    try {
      const page = await app.api.get("/v1/audit/access-log", {unit, limit: ACCESS_PAGE, cursor});
      this.accessCursor = cursor;
      this.renderAccess(page);
    } catch (error) {
      app.notify(app.errorText(error));
    }
  }

  renderAccess(page) {
    const {app} = this;
    this.accessPage = page;
    this.accessNext = page.next_cursor;
    replace(byId("access-rows"), page.entries.map((entry) => h("tr", {},
      h("td", {}, formatTime(entry.at, app.i18n.language)),
      h("td", {}, entry.unit),
      h("td", {}, `${entry.method} ${entry.path}`, entry.action ? h("span", {class: "action"}, ` · ${entry.action} ${entry.target || ""}`) : null),
      h("td", {class: "query-cell"}, Object.entries(entry.query || {}).map(([key, value]) =>
        `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`).join(", ")),
      h("td", {}, entry.rows === null || entry.rows === undefined ? "—" : String(entry.rows)),
      h("td", {}, String(entry.status)))));
    byId("access-next").disabled = !page.next_cursor;
    byId("access-first").disabled = !this.accessCursor;
  }
}
