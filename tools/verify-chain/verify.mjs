// Independent re-verification of a Spector hash chain exported as JSON Lines (EventLog.ExportChainAsync).
// Uses only Node's crypto and the public RFC 8785 package "canonicalize" - none of Spector's code.
//   node verify.mjs chain.jsonl [expected-head as position:hex]
//   node verify.mjs --record-scope chain.jsonl     (HashScope.Record: one chain per record, from 32 zero bytes)
// Prints "ok: N events, head P:H" (record scope: "ok: N events in R records") and exits 0, or prints the
// first break and exits 1.
// JSON.parse reads numbers as doubles, as RFC 8785 does. Spector stores every number a double cannot hold exactly
// (decimals, integers past 2^53) as a string of its digits, so each digit is hashed and checked here; numbers in
// events written by earlier versions parse to the nearest double, which is what their hash covered.
// Spector writes every JSON number in the shortest form that round-trips its double; a number spelled otherwise
// ("16777217.0000000001") hashes like that double, so it can only be an edit and is reported as a break. Only
// digits and exponent are compared: PostgreSQL's jsonb writes 1E+20 as 100000000000000000000.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

// "-0012.3400e2" -> "-1234e0": sign, significant digits and exponent of JSON number text.
function normalized(text) {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  const digits = match[2] + (match[3] ?? '');
  let exponent = BigInt(match[4] ?? '0') - BigInt((match[3] ?? '').length);
  const significant = digits.replace(/^0+/, '');
  const trimmed = significant.replace(/0+$/, '');
  if (trimmed === '') return '0';
  exponent += BigInt(significant.length - trimmed.length);
  return `${match[1]}${trimmed}e${exponent}`;
}

// The first number token of a raw JSON line (outside strings) not in its shortest round-trip form, or null. A
// negative zero is one too: Spector stores -0 as 0, and RFC 8785 hashes -0 as 0 although it parses as -0.
function firstNonCanonicalNumber(line) {
  const token = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
  for (const [text] of line.matchAll(token)) {
    if (text[0] === '"') continue;
    const value = Number(text);
    if (!Number.isFinite(value) || Object.is(value, -0) || normalized(text) !== normalized(String(value))) return text;
  }
  return null;
}

const recordScope = process.argv.includes('--record-scope');
const [file, expectedHead] = process.argv.slice(2).filter(a => a !== '--record-scope');
if (!file) {
  console.error('usage: node verify.mjs [--record-scope] chain.jsonl [position:hash]');
  process.exit(2);
}

let previous = Buffer.alloc(32); // hash_0: 32 zero bytes
let count = 0;
let records = 0;
let head = null;
let record = null;
let seq = 0;
for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
  if (!line.trim()) continue;
  const row = JSON.parse(line);
  const respelled = firstNonCanonicalNumber(line);
  if (respelled !== null) {
    console.log(`break at position ${row.position} (event ${row.id}): the number ${respelled} is not written ` +
      'as Spector writes it (its shortest round-trip form), so its hash covers another value');
    process.exit(1);
  }
  if (recordScope) {
    // Each record's chain starts again from 32 zero bytes at seq 1 and has no gap.
    if (row.parent_id !== record) {
      record = row.parent_id;
      previous = Buffer.alloc(32);
      seq = 0;
      records++;
    }
    if (row.seq !== seq + 1) {
      console.log(`break at position ${row.position} (event ${row.id}): record ${record} has no seq ${seq + 1}`);
      process.exit(1);
    }
    seq = row.seq;
  }
  // The envelope covers every stored field and no names (see docs/integrity.md). Events stored with a context
  // (actor, correlation, causation, reason, trace, span) carry it in a "context" member: envelope version 2.
  const hasContext = row.context !== undefined && row.context !== null;
  const envelope = {
    v: hasContext ? 2 : 1,
    id: row.id,
    parent_id: row.parent_id,
    seq: row.seq,
    schema: row.schema,
    action: row.action,
    inserted_at: row.inserted_at,
    payload: row.payload,
    metadata: row.metadata,
    links: row.links,
  };
  if (hasContext) envelope.context = row.context;
  // Text Spector stores always canonicalizes; a lone surrogate ("\ud800") can only be an edit.
  let canonical;
  try {
    canonical = canonicalize(envelope);
  } catch (error) {
    console.log(`break at position ${row.position} (event ${row.id}): it cannot be canonicalized (${error.message})`);
    process.exit(1);
  }
  const hash = createHash('sha256').update(previous).update(Buffer.from(canonical, 'utf8')).digest('hex');
  if (hash !== row.hash) {
    console.log(`break at position ${row.position} (event ${row.id}): computed ${hash}, stored ${row.hash}`);
    process.exit(1);
  }
  previous = Buffer.from(row.hash, 'hex');
  head = `${row.position}:${row.hash}`;
  count++;
}
if (expectedHead && head !== expectedHead) {
  console.log(`head mismatch: expected ${expectedHead}, found ${head ?? 'an empty chain'}`);
  process.exit(1);
}
console.log(recordScope ? `ok: ${count} events in ${records} records` : `ok: ${count} events, head ${head ?? 'none'}`);
