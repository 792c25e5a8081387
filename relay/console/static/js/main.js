// The console's start and its sign-in: the one place that holds the session, the
// stream, the API and the views (one module each, in views/), and switches between
// them by role (console.md "What each role can do").

import {Api, ApiError, problemSentences} from "./api.js";
import {byId, h, replace} from "./dom.js";
import {I18n, pickLanguage} from "./i18n.js";
import {openOutbox} from "./outbox.js";
import * as session from "./session.js";
import {StreamClient} from "./stream.js";
import {AlertDetail} from "./views/detail.js";
import {FeedView} from "./views/feed.js";
import {FormView} from "./views/alert_form.js";
import {HistoryView} from "./views/history.js";
import {AuditView} from "./views/audit.js";
import {UnitsView} from "./views/units.js";

// view name → the roles that show it
const VIEW_ROLES = {
  feed: ["subscribe"],
  "new-alert": ["publish"],
  history: ["publish", "subscribe", "audit"],
  audit: ["audit"],
  units: ["admin"],
};

async function fetchJson(path) {
  const response = await fetch(path, {credentials: "omit"});
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

export class App {
  constructor({config, catalogues}) {
    this.config = config;
    this.i18n = new I18n(catalogues, session.savedLanguage() || pickLanguage(navigator.languages));
    this.unit = null;
    this.roles = [];
    this.stream = null;
    this.reference = null;
    this.referenceLoading = null;
    this.directory = null;
    this.api = new Api({token: () => session.savedToken() || "", onUnauthorized: () => this.signedOut("revoked")});
    this.outbox = null;
  }

  static async start() {
    const [config, en, fr] = await Promise.all([
      fetchJson("/console/config.json"),
      fetchJson("/console/static/messages/en.json"),
      fetchJson("/console/static/messages/fr.json"),
    ]);
    const app = new App({config, catalogues: {en, fr}});
    await app.init();
    return app;
  }

  async init() {
    this.outbox = await openOutbox().catch(() => null);
    this.detail = new AlertDetail(this);
    this.views = {
      feed: new FeedView(this),
      "new-alert": new FormView(this),
      history: new HistoryView(this),
      audit: new AuditView(this),
      units: new UnitsView(this),
    };
    const language = byId("language");
    language.value = this.i18n.language;
    language.addEventListener("change", () => {
      session.saveLanguage(language.value);
      this.i18n.setLanguage(language.value);
    });
    this.i18n.onChange(() => this.relabel());
    byId("signin-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.signIn(byId("token").value.trim());
    });
    byId("sign-out").addEventListener("click", () => this.signOut());
    byId("sign-in").disabled = false; // until now a click would have submitted the form itself
    window.addEventListener("hashchange", () => this.route());
    this.relabel();
    const token = session.savedToken();
    const known = session.savedUnit();
    if (token && known) this.enter(known.unit, known.roles); // a reload: the same unit, even offline
    if (token) this.connect(token);
    else this.showSignIn();
    this.registerServiceWorker();
  }

  registerServiceWorker() {
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/console/sw.js", {scope: "/"}).catch(() => {
        // no service worker (a plain-HTTP address other than localhost): online only
      });
    }
  }

  t(key, params) {
    return this.i18n.t(key, params);
  }

  has(role) {
    return this.roles.includes(role);
  }

  relabel() {
    this.i18n.apply(document);
    byId("language").value = this.i18n.language;
    document.title = this.unit ? `${this.t("page.title")} · ${this.unit}` : this.t("page.title");
    this.showConnection(this.stream?.state || "offline");
    for (const view of Object.values(this.views || {})) view.relabel?.();
    this.detail?.relabel();
  }

  notify(text) {
    const notice = byId("notice");
    replace(notice, h("p", {}, text));
  }

  showConnection(state) {
    const element = byId("connection");
    element.dataset.state = state;
    element.textContent = this.t(`connection.${state}`);
  }

  // -- signing in and out ---------------------------------------------------------------

  signIn(token) {
    const error = byId("token-error");
    if (!token) {
      this.fieldError(byId("token"), error, this.t("signin.empty"));
      return;
    }
    this.fieldError(byId("token"), error, null);
    session.saveToken(token);
    byId("token").value = "";  // kept in sessionStorage only, not in the page
    this.connect(token);
  }

  fieldError(input, element, text) {
    element.hidden = !text;
    element.textContent = text || "";
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  connect(token) {
    this.stream?.stop();
    byId("connection").hidden = false;
    const stream = new StreamClient({url: this.config.stream_url, token});
    this.stream = stream;
    stream.addEventListener("state", (event) => {
      this.showConnection(event.detail.state);
      for (const view of Object.values(this.views)) view.connectionChanged?.(event.detail.state);
    });
    stream.addEventListener("welcome", (event) => this.welcomed(event.detail.welcome));
    stream.addEventListener("frame", (event) => this.views.feed.frame(event.detail.frame));
    stream.addEventListener("signed-out", (event) => this.signedOut(event.detail.reason));
    stream.start();
  }

  welcomed(welcome) {
    const changed = welcome.unit !== this.unit || welcome.roles.join() !== this.roles.join();
    session.saveUnit(welcome.unit, welcome.roles);
    if (changed) this.enter(welcome.unit, welcome.roles);
    for (const view of Object.values(this.views)) view.welcomed?.(welcome);
  }

  /** Show the views of ``unit`` with ``roles``. */
  enter(unit, roles) {
    if (this.unit && this.unit !== unit) this.resetViews();
    this.unit = unit;
    this.roles = [...roles];
    byId("unit-name").textContent = unit;
    byId("view-signin").hidden = true;
    byId("views-nav").hidden = false;
    byId("sign-out").hidden = false;
    for (const item of document.querySelectorAll("#views-nav li")) {
      item.hidden = !item.dataset.role.split(" ").some((role) => this.has(role));
    }
    this.loadReference();
    for (const view of Object.values(this.views)) view.entered?.();
    this.relabel();
    this.route();
  }

  resetViews() {
    for (const view of Object.values(this.views)) view.reset?.();
    this.directory = null;
  }

  signOut() {
    this.stream?.stop();
    this.stream = null;
    session.forget();
    this.resetViews();
    this.unit = null;
    this.roles = [];
    byId("token").value = "";
    this.showSignIn();
  }

  signedOut(reason) {
    this.signOut();
    this.fieldError(byId("token"), byId("token-error"), this.t(`signin.${reason}`));
    this.notify(this.t(`signin.${reason}`));
  }

  showSignIn() {
    byId("unit-name").textContent = "";
    byId("views-nav").hidden = true;
    byId("sign-out").hidden = true;
    for (const section of document.querySelectorAll("main > .view")) section.hidden = section.id !== "view-signin";
    byId("connection").hidden = !this.stream; // no link to speak of before a sign-in
    this.showConnection(this.stream?.state || "offline");
    document.title = this.t("page.title");
  }

  // -- views ---------------------------------------------------------------------------

  allowed(view) {
    return (VIEW_ROLES[view] || []).some((role) => this.has(role));
  }

  defaultView() {
    return Object.keys(VIEW_ROLES).find((view) => this.allowed(view)) || null;
  }

  route() {
    if (!this.unit) return;
    let view = location.hash.slice(1);
    if (!(view in VIEW_ROLES)) view = null;
    if (!view || !this.allowed(view)) {
      view = this.defaultView();
      if (view && location.hash !== `#${view}`) history.replaceState(null, "", `#${view}`);
    }
    for (const section of document.querySelectorAll("main > .view")) {
      section.hidden = section.id !== `view-${view}`;
    }
    for (const link of document.querySelectorAll("#views-nav a")) {
      if (link.dataset.view === view) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    if (view) this.views[view].shown?.();
  }

  // -- what several views use ------------------------------------------------------------

  /** The reference lists (airports, countries...), loaded once after sign-in. */
  loadReference() {
    if (!this.referenceLoading) {
      this.referenceLoading = fetchJson("/console/reference.json").then((reference) => {
        this.reference = reference;
        for (const view of Object.values(this.views)) view.referenceLoaded?.(reference);
        return reference;
      }).catch(() => {
        this.referenceLoading = null;
        return null;
      });
    }
    return this.referenceLoading;
  }

  airportCountry(code) {
    return this.reference?.airports?.[code]?.[2] ?? null;
  }

  countryName(code) {
    return this.reference?.countries?.[code]?.[this.i18n.language] ?? code;
  }

  /** [[code, "Name (CODE)"], ...] sorted by name in the current language. */
  countryOptions() {
    const countries = Object.keys(this.reference?.countries || {});
    const collator = new Intl.Collator(this.i18n.language);
    return countries.map((code) => [code, `${this.countryName(code)} (${code})`])
      .sort((a, b) => collator.compare(a[1], b[1]));
  }

  /** The relay's units and regions, for a distribution (needs the role publish). */
  async loadDirectory() {
    if (this.directory) return this.directory;
    try {
      this.directory = await this.api.get("/console/directory.json");
      session.saveDirectory(this.directory);
    } catch {
      this.directory = session.savedDirectory();
    }
    return this.directory;
  }

  /** Sentences for ``details`` in the current language (the relay renders them). */
  sentences(details) {
    return problemSentences(details, this.i18n.language);
  }

  /** A one-line message for an error of the relay (ApiError, or an error frame). */
  errorText(error) {
    if (error instanceof ApiError && error.status === 0) return this.t("error.network");
    const code = error?.code;
    return code && this.i18n.has(`error.${code}`) ? this.t(`error.${code}`) : this.t("error.other", {code: code || "?"});
  }
}

// Before the catalogues are read there is no language yet: both, then.
App.start().catch((error) => {
  replace(byId("main"),
    h("p", {class: "fatal", lang: "en"}, `The console could not start (${error.message}). Reload the page; if it goes on, tell your relay operator.`),
    h("p", {class: "fatal", lang: "fr"}, `La console n'a pas pu démarrer (${error.message}). Rechargez la page ; si cela continue, prévenez l'opérateur du relais.`));
});
