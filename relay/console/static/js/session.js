// What one browser tab remembers of its sign-in, in sessionStorage only (console.md
// "Serving": the token is never in a URL, a cookie, localStorage or a log): the token,
// and the unit and roles of the last welcome, so that a tab reloaded with no link still
// shows that unit's views and outbox. The language choice is the one thing kept in
// localStorage: it is no secret and holds nothing of an alert.

const TOKEN = "relay.token";
const UNIT = "relay.unit";
const DIRECTORY = "relay.directory";
const LANGUAGE = "relay.language";

export function savedToken() {
  return sessionStorage.getItem(TOKEN);
}

export function saveToken(token) {
  sessionStorage.setItem(TOKEN, token);
}

/** {unit, roles} of the last welcome in this tab, or null. */
export function savedUnit() {
  try {
    const value = JSON.parse(sessionStorage.getItem(UNIT) || "null");
    return value && typeof value.unit === "string" && Array.isArray(value.roles) ? value : null;
  } catch {
    return null;
  }
}

export function saveUnit(unit, roles) {
  sessionStorage.setItem(UNIT, JSON.stringify({unit, roles}));
}

/** The units and regions of the relay (no secret, nothing of an alert), for offline use. */
export function savedDirectory() {
  try {
    return JSON.parse(sessionStorage.getItem(DIRECTORY) || "null");
  } catch {
    return null;
  }
}

export function saveDirectory(directory) {
  sessionStorage.setItem(DIRECTORY, JSON.stringify(directory));
}

/** "Sign out" forgets everything of the sign-in. */
export function forget() {
  for (const key of [TOKEN, UNIT, DIRECTORY]) sessionStorage.removeItem(key);
}

export function savedLanguage() {
  try {
    return localStorage.getItem(LANGUAGE);
  } catch {
    return null;
  }
}

export function saveLanguage(language) {
  try {
    localStorage.setItem(LANGUAGE, language);
  } catch {
    // storage refused: the choice lasts for this page only
  }
}
