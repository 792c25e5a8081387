// Checking an NDJSON export's tamper-evident chain in the browser, from the file alone
// (docs/audit.md "Proving nothing was altered"): each line's hash is recomputed with
// SHA-256 over relay-chain-v1, and consecutive seqs must link (each line states the
// previous event's hash). The same rules as ``relay.store.chain_export.verify_export``;
// the first problem stops the walk and is named by line, seq and code.

const VERSION = new TextEncoder().encode("relay-chain-v1");
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
  let parsed;
  try {
    parsed = typeof line.body === "string" ? JSON.parse(line.body) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined) return {problem: {line: number, seq, code: "bad_field", params: {field: "body"}}};
  if (!(kind in line) || !same(line[kind], parsed)) return {problem: {line: number, seq, code: "member_differs", params: {member: kind}}};
  const hash = line.hash.toLowerCase();
  const prev = line.prev_hash.toLowerCase();
  if (await eventHash(prev, seq, kind, line.body) !== hash) return {problem: {line: number, seq, code: "hash_mismatch"}};
  if (seq === 1 && prev !== GENESIS) return {problem: {line: number, seq, code: "not_genesis"}};
  return {event: {line: number, seq, kind, hash, prev}};
}

/**
 * Verify the lines of an NDJSON export. ``filtered``: the export was asked with filters,
 * so it may start after seq 1 and skip seqs (each run of consecutive seqs is checked).
 * Resolves with {verified, events, alerts, receipts, firstSeq, lastSeq, lastHash, runs,
 * problem: null | {line, seq, code, params}}.
 */
export async function verifyExport(text, {filtered = false} = {}) {
  const report = {verified: false, events: 0, alerts: 0, receipts: 0, firstSeq: null, lastSeq: null,
                  lastHash: null, runs: 0, problem: null};
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
    report.lastSeq = event.seq;
    report.lastHash = event.hash;
  }
  if (last === null) return {...report, problem: {line: 0, seq: null, code: "empty"}};
  return {...report, verified: true};
}
