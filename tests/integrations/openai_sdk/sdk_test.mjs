// grm serve's /v1/chat/completions and /v1/completions through the official openai SDK, streaming
// and not. Every reply is checked against the SDK's own TypeScript declarations, read from the
// installed package: each field an interface marks required must be present, and every field
// present (required or optional) must have the declared JSON type. A field a newer SDK adds as
// required fails this test until the server sends it.
//
// node sdk_test.mjs --grm GRM --fixture-model WRITER   (run from a folder holding node_modules/openai)
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';

const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
// the package folder next to this script (the SDK's exports map hides package.json from resolve)
const sdkDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules', 'openai');
let failures = 0;
const check = (name, ok, detail = '') => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok ? '' : ': ' + detail}`);
  if (!ok) failures++;
};

// ---- the SDK's declarations: interfaces and type aliases with their namespace scope ----------
function parseDeclarations(file, decls) {
  const src = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const scope = [];    // namespace path
  const closers = [];  // what each open brace closes: 'ns', 'iface' or 'other'
  const re = /(?:export\s+)?(?:declare\s+)?namespace\s+(\w+)\s*\{|(?:export\s+)?interface\s+(\w+)(?:<[^>]*>)?(?:\s+extends\s+[^{]+)?\s*\{|(?:export\s+)?type\s+(\w+)(?:<[^>]*>)?\s*=|[{}]/g;
  let m;
  while ((m = re.exec(src))) {
    if (m[1]) { scope.push(m[1]); closers.push('ns'); }
    else if (m[2]) {
      const start = re.lastIndex;
      let depth = 1, i = start;
      for (; i < src.length && depth; i++) depth += src[i] === '{' ? 1 : src[i] === '}' ? -1 : 0;
      decls.set([...scope, m[2]].join('.'), { kind: 'iface', scope: [...scope], members: members(src.slice(start, i - 1)) });
      re.lastIndex = i;
    } else if (m[3]) {
      let depth = 0, i = re.lastIndex;
      for (; i < src.length; i++) {
        const c = src[i];
        if ('{(<['.includes(c)) depth++;
        else if ('})>]'.includes(c)) depth--;
        else if (c === ';' && depth === 0) break;
      }
      decls.set([...scope, m[3]].join('.'), { kind: 'alias', scope: [...scope], type: src.slice(re.lastIndex, i).trim() });
      re.lastIndex = i + 1;
    } else if (m[0] === '{') closers.push('other');
    else if (closers.pop() === 'ns') scope.pop();
  }
}

// "name?: type;" members at depth 0 of an interface body
function members(body) {
  const out = [];
  let depth = 0, cur = '';
  for (const c of body) {
    if ('{(<['.includes(c)) depth++;
    if ('})>]'.includes(c)) depth--;
    if (c === ';' && depth === 0) { push(cur); cur = ''; } else cur += c;
  }
  push(cur);
  function push(text) {
    const mm = /^\s*(?:readonly\s+)?['"]?(\w+)['"]?(\?)?\s*:\s*([\s\S]+)$/.exec(text);
    if (mm) out.push({ name: mm[1], optional: !!mm[2], type: mm[3].trim() });
  }
  return out;
}

// split at top-level separators
function splitTop(t, sep) {
  const parts = [];
  let depth = 0, cur = '';
  for (const c of t) {
    if ('{(<['.includes(c)) depth++;
    if ('})>]'.includes(c)) depth--;
    if (c === sep && depth === 0) { parts.push(cur.trim()); cur = ''; } else cur += c;
  }
  parts.push(cur.trim());
  return parts.filter((p) => p !== '');
}

function resolve(decls, name, scope) {
  for (let k = scope.length; k >= 0; k--) {
    const key = [...scope.slice(0, k), name].join('.');
    if (decls.has(key)) return decls.get(key);
  }
  // an import alias (ChatCompletionsAPI.X, Shared.X): the name without it, from the top
  return name.includes('.') ? resolve(decls, name.slice(name.indexOf('.') + 1), []) : null;
}

// Returns '' when `v` has type `t`, else why not.
function typeError(decls, v, t, scope, where) {
  t = t.trim();
  const alts = splitTop(t, '|');
  if (alts.length > 1) {
    const errs = alts.map((a) => typeError(decls, v, a, scope, where));
    return errs.includes('') ? '' : `${where}: ${JSON.stringify(v)} is none of ${t}`;
  }
  if (t.startsWith('(') && t.endsWith(')')) return typeError(decls, v, t.slice(1, -1), scope, where);
  if (t === 'null') return v === null ? '' : `${where}: expected null`;
  if (t === 'string') return typeof v === 'string' ? '' : `${where}: expected a string, got ${JSON.stringify(v)}`;
  if (t === 'number') return typeof v === 'number' ? '' : `${where}: expected a number, got ${JSON.stringify(v)}`;
  if (t === 'boolean') return typeof v === 'boolean' ? '' : `${where}: expected a boolean`;
  if (t === 'unknown' || t === 'any') return '';
  if (/^'.*'$/.test(t)) return v === t.slice(1, -1) ? '' : `${where}: expected ${t}, got ${JSON.stringify(v)}`;
  let arr = /^Array<([\s\S]+)>$/.exec(t) || /^([\w.]+)\[\]$/.exec(t);
  if (arr) {
    if (!Array.isArray(v)) return `${where}: expected an array`;
    for (let i = 0; i < v.length; i++) {
      const e = typeError(decls, v[i], arr[1], scope, `${where}[${i}]`);
      if (e) return e;
    }
    return '';
  }
  if (t.startsWith('{')) return v !== null && typeof v === 'object' ? '' : `${where}: expected an object`;
  const d = resolve(decls, t.replace(/<.*>$/, ''), scope);
  if (!d) return `${where}: type ${t} not found in the SDK's declarations`;
  if (d.kind === 'alias') return typeError(decls, v, d.type, d.scope, where);
  return conforms(decls, v, d, where);
}

function conforms(decls, v, iface, where) {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return `${where}: expected an object`;
  for (const m of iface.members) {
    const here = `${where}.${m.name}`;
    if (!(m.name in v) || v[m.name] === undefined) {
      if (!m.optional) return `${here}: required by the SDK, missing`;
      continue;
    }
    // members resolve names in the interface's own namespace first (Choice.Logprobs inside ChatCompletion)
    const e = typeError(decls, v[m.name], m.type, [...iface.scope, iface.name], here);
    if (e) return e;
  }
  return '';
}

const decls = new Map();
for (const f of ['resources/chat/completions/completions.d.ts', 'resources/completions.d.ts', 'resources/shared.d.ts']) {
  if (existsSync(path.join(sdkDir, f))) parseDeclarations(path.join(sdkDir, f), decls);
}
for (const [key, d] of decls) if (d.kind === 'iface') d.name = key.split('.').pop();
const iface = (name) => {
  const d = decls.get(name);
  if (!d) throw new Error(`the SDK declares no interface ${name} (its layout changed: update this test)`);
  return d;
};
const expectType = (label, value, name) => {
  const e = conforms(decls, value, iface(name), name);
  check(`${label} conforms to ${name}`, e === '', e);
};

// ---- a real grm serve with the "boxed seven" model --------------------------------------------
const tmp = mkdtempSync(path.join(tmpdir(), 'grm-openai-sdk-'));
const model = path.join(tmp, 'boxed-seven.gguf');
execFileSync(arg('--fixture-model'), [model]);
const portFile = path.join(tmp, 'port');
const server = spawn(arg('--grm'), ['serve', '--model', model, '--port', '0', '--port-file', portFile, '--ctx', '2048',
                                    '--threads', '1', '--served-model-name', 'grm-fixture'], { stdio: 'ignore' });
let baseURL = '';
for (let i = 0; i < 600 && !baseURL; i++) {
  await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(portFile)) continue;
  const port = readFileSync(portFile, 'utf8').trim();
  try {
    if (port && (await fetch(`http://127.0.0.1:${port}/health`)).ok) baseURL = `http://127.0.0.1:${port}/v1`;
  } catch {}
}
if (!baseURL) { server.kill(); throw new Error('grm serve did not come up'); }

try {
  const client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0 });
  const messages = [{ role: 'user', content: 'Score this.' }];

  const chat = await client.chat.completions.create({ model: 'grm-fixture', messages, max_tokens: 16, seed: 1 });
  expectType('chat', chat, 'ChatCompletion');
  check('chat content', chat.choices[0].message.content === '\\boxed{7}', JSON.stringify(chat.choices[0]));
  check('chat finish_reason', chat.choices[0].finish_reason === 'stop');
  check('chat usage', chat.usage.total_tokens === chat.usage.prompt_tokens + chat.usage.completion_tokens &&
        chat.usage.completion_tokens === 9, JSON.stringify(chat.usage));  // the 9 pieces of \\boxed{7}

  const stream = await client.chat.completions.create({ model: 'grm-fixture', messages, max_tokens: 16, seed: 1, n: 2,
                                                        stream: true, stream_options: { include_usage: true } });
  const text = ['', ''];
  const finish = [null, null];
  let usage = null, chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    expectType(`chat chunk ${chunks}`, chunk, 'ChatCompletionChunk');
    for (const c of chunk.choices) {
      text[c.index] += c.delta.content ?? '';
      if (c.finish_reason) finish[c.index] = c.finish_reason;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  check('chat stream text', text[0] === '\\boxed{7}' && text[1] === '\\boxed{7}', JSON.stringify(text));
  check('chat stream finish_reason', finish[0] === 'stop' && finish[1] === 'stop', JSON.stringify(finish));
  check('chat stream usage (include_usage)', usage !== null && usage.completion_tokens === 18, JSON.stringify(usage));
  check('chat stream chunks', chunks === 5, String(chunks));  // per choice text + finish, then usage

  const comp = await client.completions.create({ model: 'grm-fixture', prompt: 'Score this.', max_tokens: 4, seed: 1 });
  expectType('completion', comp, 'Completion');
  check('completion text', comp.choices[0].text === '\\box' && comp.choices[0].finish_reason === 'length',
        JSON.stringify(comp.choices[0]));

  const cstream = await client.completions.create({ model: 'grm-fixture', prompt: 'Score this.', max_tokens: 16, seed: 1,
                                                    stream: true });
  let ctext = '', cfinish = null, cchunks = 0;
  for await (const chunk of cstream) {
    cchunks++;
    expectType(`completion chunk ${cchunks}`, chunk, 'Completion');
    ctext += chunk.choices[0]?.text ?? '';
    cfinish = chunk.choices[0]?.finish_reason ?? cfinish;
  }
  check('completion stream text', ctext === '\\boxed{7}' && cfinish === 'stop', JSON.stringify([ctext, cfinish]));
} finally {
  server.kill('SIGTERM');
}
if (failures) {
  console.error(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('all OpenAI SDK checks passed');
