'use strict';
// OTLP/HTTP request bodies for test collectors: protobuf (opentelemetry-proto's ExportTraceServiceRequest)
// decoded from the wire format into the same shape as the JSON encoding, so a test asserts on one shape
// whichever encoding Herald sent. Only the fields Herald writes are mapped.

// Reads one message's fields: [{ field, wire, value }] where value is a BigInt (varint, fixed64, fixed32) or a
// Buffer (length-delimited).
function fields(buf) {
  const out = [];
  let i = 0;
  const varint = () => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (i >= buf.length || shift > 63n) throw new Error('truncated varint');
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  const fixed = (n) => {
    if (i + n > buf.length) throw new Error('truncated fixed field');
    let v = 0n;
    for (let k = 0; k < n; k++) v |= BigInt(buf[i + k]) << BigInt(8 * k);
    i += n;
    return v;
  };
  while (i < buf.length) {
    const tag = varint();
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    let value;
    if (wire === 0) value = varint();
    else if (wire === 1) value = fixed(8);
    else if (wire === 5) value = fixed(4);
    else if (wire === 2) {
      const n = Number(varint());
      if (i + n > buf.length) throw new Error('truncated length-delimited field');
      value = buf.subarray(i, i + n);
      i += n;
    } else throw new Error(`unexpected wire type ${wire}`);
    out.push({ field, wire, value });
  }
  return out;
}

const all = (fs, n) => fs.filter((f) => f.field === n).map((f) => f.value);
const first = (fs, n) => all(fs, n)[0];

function anyValue(buf) {
  const f = fields(buf)[0];
  if (!f) return {};
  switch (f.field) {
    case 1: return { stringValue: f.value.toString('utf8') };
    case 2: return { boolValue: f.value !== 0n };
    case 3: return { intValue: BigInt.asIntN(64, f.value).toString() };
    case 4: {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(f.value);
      return { doubleValue: b.readDoubleLE(0) };
    }
    default: return {};
  }
}

function keyValues(list) {
  return list.map((kv) => {
    const fs = fields(kv);
    return { key: first(fs, 1).toString('utf8'), value: anyValue(first(fs, 2) || Buffer.alloc(0)) };
  });
}

function span(buf) {
  const fs = fields(buf);
  const s = {
    traceId: first(fs, 1).toString('hex'),
    spanId: first(fs, 2).toString('hex'),
    name: (first(fs, 5) || Buffer.alloc(0)).toString('utf8'),
    kind: Number(first(fs, 6) || 0n),
    startTimeUnixNano: (first(fs, 7) || 0n).toString(),
    endTimeUnixNano: (first(fs, 8) || 0n).toString(),
    attributes: keyValues(all(fs, 9)),
    flags: Number(first(fs, 16) || 0n),
  };
  if (first(fs, 3)) s.traceState = first(fs, 3).toString('utf8');
  if (first(fs, 4)) s.parentSpanId = first(fs, 4).toString('hex');
  const st = first(fs, 15);
  s.status = { code: 0 };
  if (st) {
    const sf = fields(st);
    s.status.code = Number(first(sf, 3) || 0n);
    if (first(sf, 2)) s.status.message = first(sf, 2).toString('utf8');
  }
  return s;
}

// A protobuf ExportTraceServiceRequest as the JSON encoding's document: { resourceSpans: [...] }.
function decodeTraceRequest(buf) {
  return {
    resourceSpans: all(fields(buf), 1).map((rsBuf) => {
      const rs = fields(rsBuf);
      const resource = first(rs, 1);
      return {
        resource: { attributes: resource ? keyValues(all(fields(resource), 1)) : [] },
        scopeSpans: all(rs, 2).map((ssBuf) => {
          const ss = fields(ssBuf);
          const scope = first(ss, 1);
          const sc = scope ? fields(scope) : [];
          return {
            scope: { name: (first(sc, 1) || Buffer.alloc(0)).toString('utf8'), version: (first(sc, 2) || Buffer.alloc(0)).toString('utf8') },
            spans: all(ss, 2).map(span),
          };
        }),
      };
    }),
  };
}

module.exports = { decodeTraceRequest };
