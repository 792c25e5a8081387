// The interface's words in French and English: one catalogue per language
// (../messages/en.json, fr.json), keyed by message id, like gettext catalogues.
// Problem sentences are not here: the relay renders them from its own catalogue of
// problem codes (POST /console/problems), so that a new code is never missing.

export const LANGUAGES = ["en", "fr"];

/** The first of the browser's languages that the console speaks; English otherwise. */
export function pickLanguage(preferred) {
  for (const tag of preferred || []) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return "en";
}

/** Fill ``{name}`` placeholders from ``params``. */
export function fill(template, params = {}) {
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole);
}

export class I18n {
  /** ``catalogues``: {en: {key: text}, fr: {key: text}}. */
  constructor(catalogues, language) {
    this.catalogues = catalogues;
    this.language = LANGUAGES.includes(language) ? language : "en";
    this.listeners = [];
  }

  /** The message ``key`` in the current language; the key itself if it is missing
   * (tests/test_console_catalogue.py fails on any missing key). */
  t(key, params) {
    const text = this.catalogues[this.language]?.[key] ?? this.catalogues.en?.[key];
    return text === undefined ? key : fill(text, params);
  }

  /** The label of a value of one of the model's lists (``choice.tlp.amber``). */
  choice(list, value) {
    const key = `choice.${list}.${value}`;
    const text = this.catalogues[this.language]?.[key];
    return text === undefined ? String(value) : text;
  }

  has(key) {
    return key in (this.catalogues[this.language] || {});
  }

  setLanguage(language) {
    if (!LANGUAGES.includes(language) || language === this.language) return;
    this.language = language;
    for (const listener of this.listeners) listener(language);
  }

  onChange(listener) {
    this.listeners.push(listener);
  }

  /** Translate the static page: ``data-i18n="key"`` sets the text, and
   * ``data-i18n-attr="attribute:key attribute:key"`` attributes. */
  apply(root = document) {
    document.documentElement.lang = this.language;
    for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = this.t(node.dataset.i18n);
    for (const node of root.querySelectorAll("[data-i18n-attr]")) {
      for (const pair of node.dataset.i18nAttr.split(/\s+/).filter(Boolean)) {
        const [attribute, key] = pair.split(":");
        node.setAttribute(attribute, this.t(key));
      }
    }
    for (const select of root.querySelectorAll("select[data-choices]")) {
      for (const option of select.options) {
        if (option.value !== "") option.textContent = this.choice(select.dataset.choices, option.value);
      }
    }
  }
}
