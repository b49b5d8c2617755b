// Client-side help for the publish form: a JSON Schema check and an example generator.
//
// The check is a convenience — it catches typos before a round trip and points at the field — and it is
// deliberately a subset of JSON Schema (draft 2020-12 / 7 keywords that event schemas use: type, enum, const,
// required, properties, additionalProperties, items, min/max Items/Length, minimum/maximum, exclusive bounds,
// multipleOf, pattern, allOf/anyOf/oneOf, local $ref). The server's verdict is the authority: a keyword this
// file does not know is ignored here and enforced there.
'use strict';

window.SchemaForm = (() => {
  // Resolves "#/a/b" against the document the schema came from (the AsyncAPI document: its $refs point into
  // components.schemas).
  function resolve(ref, root) {
    if (typeof ref !== 'string' || !ref.startsWith('#')) return null;
    let node = root;
    for (const raw of ref.slice(1).split('/').filter((p) => p !== '')) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (node === null || typeof node !== 'object' || !(key in node)) return null;
      node = node[key];
    }
    return node;
  }

  function typeOf(v) {
    if (v === null) return 'null';
    if (Array.isArray(v)) return 'array';
    if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
    return typeof v;
  }

  function typeMatches(expected, v) {
    const actual = typeOf(v);
    if (expected === 'number') return actual === 'number' || actual === 'integer';
    return expected === actual;
  }

  function pointer(path) {
    return path.length === 0 ? '(the data)' : '/' + path.join('/');
  }

  function equal(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  // Returns a list of {path, message}; empty when the value passes every keyword this file knows.
  function validate(schema, value, root, path = [], depth = 0) {
    const errors = [];
    if (schema === true || schema === undefined || schema === null) return errors;
    if (schema === false) return [{ path: pointer(path), message: 'no value is allowed here' }];
    if (depth > 64) return errors;  // a self-referencing schema: leave the rest to the server
    if (schema.$ref) {
      const target = resolve(schema.$ref, root);
      if (target) errors.push(...validate(target, value, root, path, depth + 1));
    }
    const at = pointer(path);
    if (schema.type !== undefined) {
      const types = Array.isArray(schema.type) ? schema.type : [schema.type];
      if (!types.some((t) => typeMatches(t, value))) {
        errors.push({ path: at, message: `expected ${types.join(' or ')}, got ${typeOf(value)}` });
        return errors;  // the other keywords would only repeat it
      }
    }
    if (schema.const !== undefined && !equal(schema.const, value))
      errors.push({ path: at, message: `must be ${JSON.stringify(schema.const)}` });
    if (Array.isArray(schema.enum) && !schema.enum.some((x) => equal(x, value)))
      errors.push({ path: at, message: `must be one of ${schema.enum.map((x) => JSON.stringify(x)).join(', ')}` });

    if (typeof value === 'string') {
      const length = [...value].length;
      if (schema.minLength !== undefined && length < schema.minLength)
        errors.push({ path: at, message: `at least ${schema.minLength} characters` });
      if (schema.maxLength !== undefined && length > schema.maxLength)
        errors.push({ path: at, message: `at most ${schema.maxLength} characters` });
      if (typeof schema.pattern === 'string') {
        let re = null;
        try { re = new RegExp(schema.pattern, 'u'); } catch (_) { re = null; }
        if (re && !re.test(value)) errors.push({ path: at, message: `must match ${schema.pattern}` });
      }
      if (schema.format === 'date-time' && !/^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(value))
        errors.push({ path: at, message: 'must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z' });
    }
    if (typeof value === 'number') {
      if (schema.minimum !== undefined && value < schema.minimum)
        errors.push({ path: at, message: `must be ≥ ${schema.minimum}` });
      if (schema.maximum !== undefined && value > schema.maximum)
        errors.push({ path: at, message: `must be ≤ ${schema.maximum}` });
      if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum)
        errors.push({ path: at, message: `must be > ${schema.exclusiveMinimum}` });
      if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum)
        errors.push({ path: at, message: `must be < ${schema.exclusiveMaximum}` });
      if (typeof schema.multipleOf === 'number' && schema.multipleOf > 0) {
        const q = value / schema.multipleOf;
        if (Math.abs(q - Math.round(q)) > 1e-9) errors.push({ path: at, message: `must be a multiple of ${schema.multipleOf}` });
      }
    }
    if (Array.isArray(value)) {
      if (schema.minItems !== undefined && value.length < schema.minItems)
        errors.push({ path: at, message: `at least ${schema.minItems} items` });
      if (schema.maxItems !== undefined && value.length > schema.maxItems)
        errors.push({ path: at, message: `at most ${schema.maxItems} items` });
      if (schema.items && typeof schema.items === 'object' && !Array.isArray(schema.items))
        value.forEach((item, i) => errors.push(...validate(schema.items, item, root, [...path, String(i)], depth + 1)));
    }
    if (typeOf(value) === 'object') {
      for (const name of schema.required || [])
        if (!(name in value)) errors.push({ path: pointer([...path, name]), message: 'is required' });
      const props = schema.properties || {};
      for (const [name, v] of Object.entries(value)) {
        if (name in props) errors.push(...validate(props[name], v, root, [...path, name], depth + 1));
        else if (schema.additionalProperties === false)
          errors.push({ path: pointer([...path, name]), message: 'is not allowed (no such property)' });
        else if (schema.additionalProperties && typeof schema.additionalProperties === 'object')
          errors.push(...validate(schema.additionalProperties, v, root, [...path, name], depth + 1));
      }
    }
    for (const sub of schema.allOf || []) errors.push(...validate(sub, value, root, path, depth + 1));
    if (Array.isArray(schema.anyOf) && !schema.anyOf.some((s) => validate(s, value, root, path, depth + 1).length === 0))
      errors.push({ path: at, message: 'matches none of the allowed shapes (anyOf)' });
    if (Array.isArray(schema.oneOf) &&
        schema.oneOf.filter((s) => validate(s, value, root, path, depth + 1).length === 0).length !== 1)
      errors.push({ path: at, message: 'must match exactly one of the allowed shapes (oneOf)' });
    return errors;
  }

  // A value that satisfies the common keywords of `schema`: examples and defaults first, then a value built from
  // the type. Good enough to start the form with; the check above tells what is still missing.
  function example(schema, root, depth = 0) {
    if (!schema || typeof schema !== 'object' || depth > 12) return null;
    if (schema.$ref) return example(resolve(schema.$ref, root), root, depth + 1);
    if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
    if (schema.example !== undefined) return schema.example;
    if (schema.default !== undefined) return schema.default;
    if (schema.const !== undefined) return schema.const;
    if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
    for (const key of ['allOf', 'oneOf', 'anyOf'])
      if (Array.isArray(schema[key]) && schema[key].length) return example(schema[key][0], root, depth + 1);
    const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
    switch (type || (schema.properties ? 'object' : undefined)) {
      case 'object': {
        const out = {};
        for (const [name, sub] of Object.entries(schema.properties || {})) out[name] = example(sub, root, depth + 1);
        return out;
      }
      case 'array': {
        const n = Math.max(1, schema.minItems || 0);
        return Array.from({ length: n }, () => example(schema.items, root, depth + 1));
      }
      case 'integer':
        return Math.max(schema.minimum ?? 1, 1);
      case 'number':
        return schema.minimum ?? 1.5;
      case 'boolean':
        return true;
      case 'string':
        if (schema.format === 'date-time') return new Date().toISOString();
        if (schema.format === 'uri') return 'https://example.com/';
        if (schema.format === 'email') return 'someone@example.com';
        return 'x'.repeat(Math.max(schema.minLength || 0, 1));
      default:
        return null;
    }
  }

  return { validate, example, resolve };
})();
