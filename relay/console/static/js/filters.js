// The feed's filters (console.md "subscribe"): kinds, airports, countries, minimum
// priority, statuses. They are applied in the browser to what the unit receives, with the
// stream's own rules (protocol.md "subscribe"), so that changing them never needs a
// replay: the subscription always takes everything the unit may see.

import {airportsOf} from "./format.js";

export const PRIORITY_RANK = {routine: 0, urgent: 1, flash: 2};

/** A filter that lets every alert through. */
export function openFilter() {
  return {kinds: null, statuses: null, minPriority: "routine", airports: null, countries: null};
}

/** Upper-case codes from free text ("cdg, bko" → ["CDG", "BKO"]); null for none. */
export function codesFrom(text) {
  const codes = String(text || "").toUpperCase().split(/[\s,;]+/).filter(Boolean);
  return codes.length ? codes : null;
}

/** True when ``alert`` passes ``filter``. ``countryOf(iata)`` gives an airport's
 * country (the countries filter looks at the alert's airports, as the stream does). */
export function matches(alert, filter, countryOf) {
  if (filter.kinds && !filter.kinds.includes(alert.kind)) return false;
  if (filter.statuses && !filter.statuses.includes(alert.status || "actual")) return false;
  if ((PRIORITY_RANK[alert.priority] ?? 0) < (PRIORITY_RANK[filter.minPriority] ?? 0)) return false;
  if (filter.airports || filter.countries) {
    const airports = airportsOf(alert);
    if (filter.airports && !airports.some((code) => filter.airports.includes(code))) return false;
    if (filter.countries && !airports.some((code) => filter.countries.includes(countryOf(code)))) return false;
  }
  return true;
}
