// The alert form's values and the alert they make (alerts.md "Fields the client sends"),
// both ways, and where a problem's field path (``subjects[0].document.number``) is on the
// form. Pure: the page reads and writes the values (views/alert_form.js).
//
// The form checks nothing itself: the relay validates and its problems are shown beside
// their fields. An empty input leaves its field out of the alert, so that a required one
// comes back as "is required" at its place.

import {codesFrom} from "./filters.js";
import {inputFromUtc, utcFromInput} from "./format.js";

export const SUBJECT_FIELDS = ["role", "surname", "given_names", "birth_date", "nationality",
  "document.type", "document.number", "document.issuing_country", "seat", "pnr_locator", "bag_tags"];
export const SEIZURE_FIELDS = ["commodity", "quantity", "unit", "description"];

/** Empty values of a new form. */
export function blankValues(language = "en") {
  return {
    msg_type: "alert", references: "", kind: "passenger", status: "actual", priority: "urgent",
    tlp: "amber", summary: "", language, expires_at: "",
    distribution: {mode: "chosen", units: [], countries: [], regions: []},
    flight: {number: "", date: "", origin: "", destination: "", route: "", scheduled_arrival: ""},
    subjects: [blankSubject()], requested_action: "", indicators: [], indicators_other: "",
    seizures: [blankSeizure()], concealment: "", detection: "", location: "", occurred_at: "",
    grading: {source: "", information: ""}, ext: null,
  };
}

export function blankSubject() {
  return Object.fromEntries(SUBJECT_FIELDS.map((name) => [name, name === "role" ? "passenger" : ""]));
}

export function blankSeizure() {
  return {commodity: "", quantity: "", unit: "kg", description: ""};
}

function filled(record, names, ignore = []) {
  return names.some((name) => !ignore.includes(name) && String(record[name] ?? "").trim() !== "");
}

function put(target, key, value) {
  if (value !== undefined && value !== null && value !== "") target[key] = value;
}

function words(text) {
  return String(text || "").split(/[\s,;]+/).filter(Boolean);
}

/** A quantity as the number it reads as ("2,5" is 2.5); the text itself if it is none,
 * so that the relay names the problem. */
export function quantityOf(text) {
  const trimmed = String(text ?? "").trim();
  if (!trimmed) return undefined;
  const number = Number(trimmed.replace(",", "."));
  return Number.isFinite(number) ? number : trimmed;
}

/** The alert the form's ``values`` make, sent at ``sentAt`` (RFC 3339). */
export function alertFromValues(values, sentAt) {
  const alert = {kind: values.kind, priority: values.priority, tlp: values.tlp, status: values.status || "actual"};
  if (values.msg_type && values.msg_type !== "alert") {
    alert.msg_type = values.msg_type;
    put(alert, "references", values.references);
  }
  const distribution = values.distribution || {};
  if (distribution.mode === "all") {
    alert.distribution = {all: true};
  } else {
    alert.distribution = {};
    for (const key of ["units", "countries", "regions"]) {
      if (distribution[key]?.length) alert.distribution[key] = [...distribution[key]];
    }
  }
  alert.sent_at = sentAt;
  put(alert, "expires_at", utcFromInput(values.expires_at));
  put(alert, "summary", values.summary);
  put(alert, "language", values.language);
  const passenger = values.kind === "passenger";
  const flight = values.flight || {};
  if (passenger || filled(flight, Object.keys(flight))) {
    alert.flight = {};
    put(alert.flight, "number", flight.number?.trim().toUpperCase());
    put(alert.flight, "date", flight.date);
    put(alert.flight, "origin", flight.origin?.trim().toUpperCase());
    put(alert.flight, "destination", flight.destination?.trim().toUpperCase());
    put(alert.flight, "route", codesFrom(flight.route));
    put(alert.flight, "scheduled_arrival", utcFromInput(flight.scheduled_arrival));
  }
  const subjects = (values.subjects || []).filter((s) => filled(s, SUBJECT_FIELDS, ["role"])).map(subjectOf);
  if (passenger || subjects.length) alert.subjects = subjects;
  if (passenger) put(alert, "requested_action", values.requested_action);
  const indicators = [...(values.indicators || []), ...words(values.indicators_other)];
  if (indicators.length) alert.indicators = [...new Set(indicators)];
  if (!passenger) {
    alert.seizures = (values.seizures || []).filter((s) => filled(s, SEIZURE_FIELDS, ["unit"])).map((item) => {
      const seized = {};
      put(seized, "commodity", item.commodity);
      put(seized, "quantity", quantityOf(item.quantity));
      put(seized, "unit", item.unit?.trim());
      put(seized, "description", item.description);
      return seized;
    });
    put(alert, "location", values.location?.trim().toUpperCase());
    put(alert, "occurred_at", utcFromInput(values.occurred_at));
  }
  put(alert, "concealment", values.concealment);
  put(alert, "detection", values.detection);
  const grading = values.grading || {};
  if (grading.source || grading.information) {
    alert.grading = {};
    put(alert.grading, "source", grading.source);
    put(alert.grading, "information", grading.information);
  }
  if (values.ext && typeof values.ext === "object") alert.ext = values.ext;
  return alert;
}

function subjectOf(subject) {
  const person = {};
  put(person, "role", subject.role);
  put(person, "surname", subject.surname);
  put(person, "given_names", subject.given_names);
  put(person, "birth_date", subject.birth_date);
  put(person, "nationality", subject.nationality);
  if (subject["document.type"] || subject["document.number"] || subject["document.issuing_country"]) {
    person.document = {};
    put(person.document, "type", subject["document.type"]);
    put(person.document, "number", subject["document.number"]);
    put(person.document, "issuing_country", subject["document.issuing_country"]);
  }
  put(person, "seat", subject.seat);
  put(person, "pnr_locator", subject.pnr_locator);
  const tags = words(subject.bag_tags);
  if (tags.length) person.bag_tags = tags;
  return person;
}

/** The form's values for an update or a cancel of a stored ``alert``. */
export function valuesFromAlert(alert, msgType, knownIndicators = []) {
  const values = blankValues(alert.language || "en");
  values.msg_type = msgType;
  values.references = alert.alert_id || "";
  for (const key of ["kind", "status", "priority", "tlp", "summary", "requested_action",
    "concealment", "detection", "location"]) {
    if (typeof alert[key] === "string") values[key] = alert[key];
  }
  values.language = alert.language || "";
  values.expires_at = inputFromUtc(alert.expires_at);
  values.occurred_at = inputFromUtc(alert.occurred_at);
  const distribution = alert.distribution || {};
  values.distribution = distribution.all === true
    ? {mode: "all", units: [], countries: [], regions: []}
    : {mode: "chosen", units: distribution.units || [], countries: distribution.countries || [],
       regions: distribution.regions || []};
  const flight = alert.flight || {};
  values.flight = {number: flight.number || "", date: flight.date || "", origin: flight.origin || "",
    destination: flight.destination || "", route: (flight.route || []).join(" "),
    scheduled_arrival: inputFromUtc(flight.scheduled_arrival)};
  values.subjects = (alert.subjects || []).map((person) => ({
    role: person.role || "passenger", surname: person.surname || "", given_names: person.given_names || "",
    birth_date: person.birth_date || "", nationality: person.nationality || "",
    "document.type": person.document?.type || "", "document.number": person.document?.number || "",
    "document.issuing_country": person.document?.issuing_country || "", seat: person.seat || "",
    pnr_locator: person.pnr_locator || "", bag_tags: (person.bag_tags || []).join(" "),
  }));
  if (!values.subjects.length) values.subjects = [blankSubject()];
  values.seizures = (alert.seizures || []).map((item) => ({
    commodity: item.commodity || "", quantity: item.quantity === undefined ? "" : String(item.quantity),
    unit: item.unit || "", description: item.description || ""}));
  if (!values.seizures.length) values.seizures = [blankSeizure()];
  const indicators = alert.indicators || [];
  values.indicators = indicators.filter((name) => knownIndicators.includes(name));
  values.indicators_other = indicators.filter((name) => !knownIndicators.includes(name)).join(" ");
  values.grading = {source: alert.grading?.source || "", information: alert.grading?.information || ""};
  values.ext = alert.ext || null;
  return values;
}

// Paths whose problem is shown at another field than their own name says.
const ALIASES = {
  "distribution.all": "distribution",
  grading: "grading.source",
  flight: "flight.number",
  document: "document.type",
  subjects: "subjects",
  seizures: "seizures",
};

/**
 * Where a problem's ``path`` is on the form: {list: null | "subjects" | "seizures",
 * index, field}. ``field`` is the ``data-field`` of an input (inside the list's item
 * ``index`` when ``list`` is set), with list indexes inside a field dropped
 * (``flight.route[2]`` is the route input); null when no input holds it (``alert``,
 * ``ext``, ``sent_at``), then the problem appears in the summary only.
 */
export function locate(path) {
  const match = /^(subjects|seizures)\[(\d+)\](?:\.(.+))?$/.exec(path);
  if (match) {
    const [, list, index, rest] = match;
    const field = rest ? rest.replace(/\[\d+\]/g, "") : null;
    return {list, index: Number(index), field: field ? (ALIASES[field] ?? field) : null};
  }
  const field = path.replace(/\[\d+\]/g, "");
  if (field in ALIASES) return {list: null, index: null, field: ALIASES[field]};
  if (field === "alert" || field === "sent_at" || field === "msg_type" || field === "references"
      || field.startsWith("ext")) {
    return {list: null, index: null, field: null};
  }
  return {list: null, index: null, field};
}
