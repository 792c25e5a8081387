// Checking an NDJSON export's tamper-evident chain in the browser, from the file alone
// (docs/audit.md "Proving nothing was altered"): each line's hash is recomputed with
// SHA-256 over relay-chain-v1, and consecutive seqs must link (each line states the
// previous event's hash). The same rules as ``relay.store.chain_export.verify_export``;
// the first problem stops the walk and is named by line, seq and code.
//
// A sealed alert (``"chain": 2``, protection.md "The chain stays verifiable") is hashed
// over relay-chain-v2: the canonical JSON of what reduction keeps of its stored body
// (``body``, without personal fields) and the digest of the rest with the personal
// fields' commitments, recomputed unless the alert was reduced. What a reader sees
// (``alert``) must be that stored body, plus the personal fields while they are shown
// and the marks of masking and reduction. The canonical JSON is orjson's with sorted
// keys, byte for byte: numbers as written (``1.0`` stays ``1.0``), keys by code point.
// An event stored before protection whose content was destroyed (``content_removed``)
// is linked to its neighbours, not recomputed.

const encoder = new TextEncoder();
const VERSION = encoder.encode("relay-chain-v1");
const VERSION_2 = encoder.encode("relay-chain-v2");
const CONTENT_TAG = encoder.encode("relay-content-v2\0");
// protection.md "Personal fields" (relay.contract.personal.PERSONAL_PATHS) and what
// reduction keeps (AUDIT_FIELDS); tests/test_console_protection.py holds them equal.
export const PERSONAL_PATHS = ["subjects[].surname", "subjects[].given_names", "subjects[].birth_date",
  "subjects[].document.number", "subjects[].seat", "subjects[].pnr_locator", "subjects[].bag_tags"];
export const AUDIT_FIELDS = ["alert_id", "kind", "msg_type", "references", "origin_unit", "origin_relay",
  "distribution", "tlp", "status", "sent_at", "received_at", "origin_seq", "audience"];
const STATE_FIELDS = ["masked_at", "reduced_at", "personal_unavailable"];
const HEX = /^[0-9a-fA-F]{64}$/;
const GENESIS = "0".repeat(64);

function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(text) {
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i += 1) bytes[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

function seqBytes(seq) {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(seq));
  return bytes;
}

/** The chain hash of a sealed alert, hex (relay.store.chain.event_hash_v2). */
export async function eventHashV2(prevHex, seq, kind, auditJson, digestHex) {
  const data = concat(fromHex(prevHex), VERSION_2, [0], seqBytes(seq), encoder.encode(kind), [0],
    encoder.encode(auditJson), [0], fromHex(digestHex));
  return hex(await crypto.subtle.digest("SHA-256", data));
}

// -- orjson's canonical JSON, from the exact text of a body --------------------------------

class RawNumber {
  constructor(text) { this.text = text; }
}

// A token of valid JSON (the text has been through JSON.parse already).
const TOKEN = /[ \t\n\r]*(?:("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(true|false|null)|([{}[\],:]))/y;

/** ``text`` as a tree whose objects are Maps (in their order) and numbers RawNumbers. */
export function parseExact(text) {
  let at = 0;
  const next = () => {
    TOKEN.lastIndex = at;
    const token = TOKEN.exec(text);
    if (!token) throw new SyntaxError("not JSON");
    at = TOKEN.lastIndex;
    return token;
  };
  const value = (token) => {
    if (token[1] !== undefined || token[3] !== undefined) return JSON.parse(token[1] ?? token[3]);
    if (token[2] !== undefined) return new RawNumber(token[2]);
    if (token[4] === "[") {
      const list = [];
      for (let item = next(); item[4] !== "]"; item = next()) {
        if (list.length) {
          if (item[4] !== ",") throw new SyntaxError("not JSON");
          item = next();
        }
        list.push(value(item));
      }
      return list;
    }
    if (token[4] === "{") {
      const map = new Map();
      for (let key = next(); key[4] !== "}"; key = next()) {
        if (map.size) {
          if (key[4] !== ",") throw new SyntaxError("not JSON");
          key = next();
        }
        if (key[1] === undefined || next()[4] !== ":") throw new SyntaxError("not JSON");
        map.set(JSON.parse(key[1]), value(next()));
      }
      return map;
    }
    throw new SyntaxError("not JSON");
  };
  const tree = value(next());
  if (text.slice(at).trim()) throw new SyntaxError("not JSON");
  return tree;
}

function byCodePoint(a, b) {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i += 1) {
    const difference = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (difference) return difference;
  }
  return x.length - y.length;
}

/** The canonical JSON of a tree of :func:`parseExact` (relay.contract.personal.canonical). */
export function canonicalJson(tree) {
  if (tree instanceof RawNumber) return tree.text;
  if (Array.isArray(tree)) return `[${tree.map(canonicalJson).join(",")}]`;
  if (tree instanceof Map) {
    return `{${[...tree.keys()].sort(byCodePoint).map((key) => `${JSON.stringify(key)}:${canonicalJson(tree.get(key))}`).join(",")}}`;
  }
  return JSON.stringify(tree);
}

/** ``body`` (a plain object) without its personal fields (relay.contract.personal.remove_personal). */
export function removePersonal(body) {
  const copy = structuredClone(body);
  for (const path of PERSONAL_PATHS) {
    const segments = path.split(".");
    const walk = (node, index) => {
      if (!node || typeof node !== "object" || Array.isArray(node)) return;
      let name = segments[index];
      const each = name.endsWith("[]");
      if (each) name = name.slice(0, -2);
      if (!Object.hasOwn(node, name)) return;
      if (index === segments.length - 1 && !each) {
        delete node[name];
      } else if (each) {
        if (!Array.isArray(node[name])) return;
        for (const item of node[name]) walk(item, index + 1);
      } else {
        walk(node[name], index + 1);
      }
    };
    walk(copy, 0);
  }
  return copy;
}

async function sha256Hex(bytes) {
  return hex(await crypto.subtle.digest("SHA-256", bytes));
}

/** The problem of a sealed alert's line (relay.store.chain_export), or null. */
async function sealedProblem(number, seq, kind, line, stored, prev, hash) {
  const {commitments, content_digest: digest} = line;
  if (!Array.isArray(commitments) || !commitments.every((c) => Array.isArray(c) && c.length === 2
      && c.every((part) => typeof part === "string"))) {
    return {line: number, seq, code: "bad_field", params: {field: "commitments"}};
  }
  if (typeof digest !== "string" || !HEX.test(digest)) {
    return {line: number, seq, code: "bad_field", params: {field: "content_digest"}};
  }
  const shown = line[kind];
  const differs = {line: number, seq, code: "member_differs", params: {member: kind}};
  if (kind !== "alert" || !isObject(shown) || !isObject(stored)) return differs;
  const visible = removePersonal(Object.fromEntries(Object.entries(shown).filter(([key]) => !STATE_FIELDS.includes(key))));
  if (!same(visible, stored)) return differs;
  const exact = parseExact(line.body);
  const kept = new Map([...exact].filter(([key]) => AUDIT_FIELDS.includes(key)));
  const content = new Map([...exact].filter(([key]) => !AUDIT_FIELDS.includes(key)));
  const reduced = Object.hasOwn(shown, "reduced_at");
  if (reduced && content.size) return differs;
  if (!reduced) {
    const canonical = canonicalJson(new Map([["content", content], ["commitments", commitments]]));
    if (await sha256Hex(concat(CONTENT_TAG, encoder.encode(canonical))) !== digest.toLowerCase()) {
      return {line: number, seq, code: "hash_mismatch"};
    }
  }
  if (await eventHashV2(prev, seq, kind, canonicalJson(kept), digest) !== hash) return {line: number, seq, code: "hash_mismatch"};
  return null;
}

function isObject(value) {
  return Boolean(value) && typeof value === "object" && !Array.isArray(value);
}

/** The chain hash of one event, hex (relay.store.chain.event_hash). */
export async function eventHash(prevHex, seq, kind, body) {
  const kindBytes = new TextEncoder().encode(kind);
  const bodyBytes = new TextEncoder().encode(body);
  const data = new Uint8Array(32 + VERSION.length + 1 + 8 + kindBytes.length + 1 + bodyBytes.length);
  let at = 0;
  data.set(fromHex(prevHex), at); at += 32;
  data.set(VERSION, at); at += VERSION.length;
  data[at] = 0; at += 1;
  new DataView(data.buffer).setBigUint64(at, BigInt(seq)); at += 8;
  data.set(kindBytes, at); at += kindBytes.length;
  data[at] = 0; at += 1;
  data.set(bodyBytes, at);
  return hex(await crypto.subtle.digest("SHA-256", data));
}

function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical(value[key])]));
  }
  return value;
}

function same(a, b) {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

async function readLine(number, text) {
  let line;
  try {
    line = JSON.parse(text);
  } catch {
    line = null;
  }
  if (!line || typeof line !== "object" || Array.isArray(line)) return {problem: {line: number, seq: null, code: "not_json"}};
  const {seq, kind} = line;
  if (!Number.isInteger(seq) || seq < 1) return {problem: {line: number, seq: null, code: "bad_field", params: {field: "seq"}}};
  if (kind !== "alert" && kind !== "receipt") return {problem: {line: number, seq, code: "bad_field", params: {field: "kind"}}};
  if (line.prev_hash === null) return {problem: {line: number, seq, code: "no_prev_hash"}};
  for (const field of ["hash", "prev_hash"]) {
    if (typeof line[field] !== "string" || !HEX.test(line[field])) {
      return {problem: {line: number, seq, code: "bad_field", params: {field}}};
    }
  }
  const hash = line.hash.toLowerCase();
  const prev = line.prev_hash.toLowerCase();
  if (line.content_removed === true && (line.chain === undefined || line.chain === null)) {
    return {event: {line: number, seq, kind, hash, prev, removed: true}};
  }
  let parsed;
  try {
    parsed = typeof line.body === "string" ? JSON.parse(line.body) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined) return {problem: {line: number, seq, code: "bad_field", params: {field: "body"}}};
  if (line.chain === 2) {
    const problem = await sealedProblem(number, seq, kind, line, parsed, prev, hash);
    if (problem) return {problem};
  } else if (!(kind in line) || !same(line[kind], parsed)) {
    return {problem: {line: number, seq, code: "member_differs", params: {member: kind}}};
  } else if (await eventHash(prev, seq, kind, line.body) !== hash) {
    return {problem: {line: number, seq, code: "hash_mismatch"}};
  }
  if (seq === 1 && prev !== GENESIS) return {problem: {line: number, seq, code: "not_genesis"}};
  return {event: {line: number, seq, kind, hash, prev}};
}

/**
 * Verify the lines of an NDJSON export. ``filtered``: the export was asked with filters,
 * so it may start after seq 1 and skip seqs (each run of consecutive seqs is checked).
 * Resolves with {verified, events, alerts, receipts, firstSeq, lastSeq, lastHash, runs,
 * contentRemoved (events linked, their content destroyed), problem: null | {line, seq, code, params}}.
 */
export async function verifyExport(text, {filtered = false} = {}) {
  const report = {verified: false, events: 0, alerts: 0, receipts: 0, firstSeq: null, lastSeq: null,
                  lastHash: null, runs: 0, contentRemoved: 0, problem: null};
  let last = null;
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index += 1) {
    if (!lines[index].trim()) continue;
    const number = index + 1;
    const {event, problem} = await readLine(number, lines[index]);
    if (problem) return {...report, problem};
    if (last === null) {
      report.firstSeq = event.seq;
      report.runs = 1;
      if (!filtered && event.seq !== 1) return {...report, problem: {line: number, seq: 1, code: "missing_start", params: {found: event.seq}}};
    } else if (event.seq <= last.seq) {
      return {...report, problem: {line: number, seq: event.seq, code: "out_of_order", params: {previous: last.seq}}};
    } else if (event.seq > last.seq + 1) {
      if (!filtered) return {...report, problem: {line: number, seq: last.seq + 1, code: "missing_seq", params: {previous: last.seq, found: event.seq}}};
      report.runs += 1;
    } else if (event.prev !== last.hash) {
      return {...report, problem: {line: last.line, seq: last.seq, code: "broken_link", params: {next: event.seq}}};
    }
    last = event;
    report.events += 1;
    report[event.kind === "alert" ? "alerts" : "receipts"] += 1;
    if (event.removed) report.contentRemoved += 1;
    report.lastSeq = event.seq;
    report.lastHash = event.hash;
  }
  if (last === null) return {...report, problem: {line: 0, seq: null, code: "empty"}};
  return {...report, verified: true};
}
