// Formatting alerts and times for people. Pure: a translator goes in, text comes out.
// Every time is shown in UTC and says so (console.md "Language and accessibility").

const LOCALES = {en: "en-GB", fr: "fr-FR"};
const formatters = new Map();
const dayFormatters = new Map();

function formatter(language, withSeconds) {
  const key = `${language}:${withSeconds}`;
  if (!formatters.has(key)) {
    formatters.set(key, new Intl.DateTimeFormat(LOCALES[language] || "en-GB", {
      timeZone: "UTC", year: "numeric", month: "short", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: withSeconds ? "2-digit" : undefined,
      hourCycle: "h23",
    }));
  }
  return formatters.get(key);
}

/** "23 Nov 2026, 08:00:01 UTC" / "23 nov. 2026, 08:00:01 UTC"; "" for no time. */
export function formatTime(iso, language, {seconds = true} = {}) {
  if (!iso) return "";
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return String(iso);
  return `${formatter(language, seconds).format(when)} UTC`;
}

/** "11 Jun 2027" / "11 juin 2027": the UTC day of an RFC 3339 time; "" for none. */
export function formatDate(iso, language) {
  if (!iso) return "";
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return String(iso);
  if (!dayFormatters.has(language)) {
    dayFormatters.set(language, new Intl.DateTimeFormat(LOCALES[language] || "en-GB", {
      timeZone: "UTC", year: "numeric", month: "short", day: "numeric",
    }));
  }
  return dayFormatters.get(language).format(when);
}

/** A UTC <input type="datetime-local"> value ("2026-11-23T08:00") as RFC 3339. */
export function utcFromInput(value) {
  if (!value) return "";
  const seconds = value.length === 16 ? ":00" : "";
  return `${value}${seconds}Z`;
}

/** An RFC 3339 time as a UTC <input type="datetime-local"> value. */
export function inputFromUtc(iso) {
  if (!iso) return "";
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  return when.toISOString().slice(0, 16);
}

/** The airports an alert names, in route order: origin, route, destination, location. */
export function airportsOf(alert) {
  const flight = alert.flight || {};
  const codes = [];
  const add = (code) => { if (typeof code === "string" && code && !codes.includes(code)) codes.push(code); };
  add(flight.origin);
  for (const code of Array.isArray(flight.route) ? flight.route : []) add(code);
  add(flight.destination);
  add(alert.location);
  return codes;
}

/** "AT571 · BKO → CMN → CDG", or the location of a seizure without a flight. */
export function routeText(alert) {
  const flight = alert.flight;
  if (flight && typeof flight === "object") {
    const stops = Array.isArray(flight.route) && flight.route.length >= 2
      ? flight.route : [flight.origin, flight.destination];
    const date = flight.date ? ` (${flight.date})` : "";
    return `${flight.number || ""}${date} · ${stops.filter(Boolean).join(" → ")}`;
  }
  return alert.location || "";
}

/** What stands for a name the relay did not send: "(masked)" once the alert is masked
 * or reduced (protection.md), "(unavailable)" when its sealed fields could not be opened,
 * "" for an alert sent whole. */
export function hiddenName(alert, i18n) {
  if (alert.masked_at || alert.reduced_at) return i18n.t("card.masked_name");
  if (alert.personal_unavailable === true) return i18n.t("card.unavailable_name");
  return "";
}

/** What data protection did to ``alert``, in sentences: its personal data masked, the
 * alert reduced to its audit record, its personal data unreadable. [] for a whole alert. */
export function protectionNotices(alert, i18n) {
  const notices = [];
  if (alert.masked_at) notices.push(i18n.t("card.masked", {date: formatDate(alert.masked_at, i18n.language)}));
  if (alert.reduced_at) notices.push(i18n.t("card.reduced", {date: formatDate(alert.reduced_at, i18n.language)}));
  if (alert.personal_unavailable === true) notices.push(i18n.t("card.personal_unavailable"));
  return notices;
}

/** "COURIER: DOE John" per subject, joined; "COURIER: (masked)" once names are removed. */
export function subjectsText(alert, i18n) {
  const hidden = hiddenName(alert, i18n);
  return (Array.isArray(alert.subjects) ? alert.subjects : []).map((subject) => {
    const role = i18n.choice("subject_role", subject.role);
    const name = [subject.surname, subject.given_names].filter(Boolean).join(" ");
    return i18n.t("card.pair", {label: role, value: name || hidden});
  }).join("; ");
}

/** "Cocaine 2.5 kg" per seized item, joined. */
export function seizuresText(alert, i18n) {
  return (Array.isArray(alert.seizures) ? alert.seizures : []).map((item) =>
    `${i18n.choice("commodity", item.commodity)} ${formatNumber(item.quantity, i18n.language)} ${item.unit}`,
  ).join("; ");
}

export function formatNumber(value, language) {
  return typeof value === "number" ? value.toLocaleString(LOCALES[language] || "en-GB") : String(value ?? "");
}

/** TLP labels are the same in every language (FIRST TLP 2.0): "TLP:AMBER+STRICT". */
export function tlpLabel(tlp) {
  return `TLP:${String(tlp || "").toUpperCase()}`;
}

/** The headline of an alert: kind and priority in words, flight and route (a reduced
 * alert has neither priority nor flight: its kind alone). */
export function headline(alert, i18n) {
  const parts = [];
  if (alert.priority) parts.push(i18n.choice("priority", alert.priority).toUpperCase());
  if (alert.kind) parts.push(i18n.choice("kind", alert.kind));
  const route = routeText(alert);
  return route ? `${parts.join(" · ")} · ${route}` : parts.join(" · ");
}

/** Who an alert was addressed to, in words. */
export function distributionText(distribution, i18n) {
  if (!distribution || typeof distribution !== "object") return "";
  if (distribution.all === true) return i18n.t("distribution.all_units");
  const parts = [];
  for (const key of ["units", "countries", "regions"]) {
    const list = Array.isArray(distribution[key]) ? distribution[key] : [];
    if (list.length) parts.push(i18n.t("card.pair", {label: i18n.t(`distribution.${key}`), value: list.join(", ")}));
  }
  return parts.join(" · ");
}
