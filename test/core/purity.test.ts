// The layering of DESIGN.md §6: imports flow one way, towards core/, and core/ is pure. core/ is
// read with the TypeScript compiler, not with patterns, so that an escape cannot hide from it.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import ts from 'typescript';

const SRC = resolve('src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Which top-level folders of src/ each folder may import. */
const ALLOWED: Record<string, string[]> = {
  core: ['core'],
  admission: ['core', 'admission'],
  snapshot: ['core', 'snapshot'],
  evidence: ['core', 'evidence'],
  config: ['core', 'config'],
  tls: ['core', 'tls'],
  telemetry: ['core', 'admission', 'readiness', 'telemetry'],
  authz: ['core', 'admission', 'authz'],
  http: ['core', 'admission', 'telemetry', 'config', 'http'],
  report: ['core', 'report'],
  readiness: ['core', 'readiness'],
  cli: ['core', 'admission', 'authz', 'snapshot', 'evidence', 'http', 'tls', 'config', 'telemetry', 'report', 'readiness', 'cli'],
};

/** Names that reach the world outside a pure function: the process, clocks, randomness, timers, I/O. */
const IMPURE_GLOBALS = new Set([
  'process',
  'globalThis',
  'global',
  'window',
  'Date',
  'performance',
  'crypto',
  'fetch',
  'console',
  'require',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'queueMicrotask',
  'XMLHttpRequest',
  'WebSocket',
  'Deno',
  'Bun',
]);

/** Module-level values that are containers to write into. */
const MUTABLE_CONSTRUCTORS = new Set(['Map', 'Set', 'WeakMap', 'WeakSet', 'Array', 'Object', 'WeakRef']);

/** A finding of the purity check: `line: what`. */
export function impurities(source: string, fileName = 'x.ts'): string[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const at = (n: ts.Node, what: string): void => {
    out.push(`${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}: ${what}`);
  };
  // Names declared anywhere in the file (parameters, locals, imports) shadow the globals.
  const declared = new Set<string>();
  const collect = (n: ts.Node): void => {
    if (
      (ts.isVariableDeclaration(n) ||
        ts.isParameter(n) ||
        ts.isFunctionDeclaration(n) ||
        ts.isClassDeclaration(n) ||
        ts.isBindingElement(n) ||
        ts.isImportSpecifier(n) ||
        ts.isImportClause(n) ||
        ts.isNamespaceImport(n)) &&
      n.name &&
      ts.isIdentifier(n.name)
    )
      declared.add(n.name.text);
    ts.forEachChild(n, collect);
  };
  collect(sf);
  const visit = (n: ts.Node): void => {
    if (
      (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) &&
      n.moduleSpecifier &&
      ts.isStringLiteral(n.moduleSpecifier) &&
      !n.moduleSpecifier.text.startsWith('.')
    ) {
      at(n, `imports ${n.moduleSpecifier.text}`);
    }
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) at(n, 'imports a module at run time');
    if (ts.isIdentifier(n) && IMPURE_GLOBALS.has(n.text) && !declared.has(n.text) && isReference(n) && !isPureDate(n))
      at(n, `reads ${n.text}`);
    if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'Math' && n.name.text === 'random')
      at(n, 'reads Math.random');
    ts.forEachChild(n, visit);
  };
  visit(sf);
  for (const st of sf.statements) {
    const list = ts.isVariableStatement(st) ? st.declarationList : undefined;
    if (!list) continue;
    if (!(list.flags & ts.NodeFlags.Const)) {
      at(st, `module-level ${list.flags & ts.NodeFlags.Let ? 'let' : 'var'}`);
      continue;
    }
    for (const d of list.declarations) {
      const init = d.initializer && stripAssertions(d.initializer);
      if (
        init &&
        ts.isNewExpression(init) &&
        ts.isIdentifier(init.expression) &&
        MUTABLE_CONSTRUCTORS.has(init.expression.text) &&
        !isReadonly(d, d.initializer!)
      ) {
        at(d, `module-level mutable ${init.expression.text} ${d.name.getText(sf)}`);
      }
      if (init && ts.isArrayLiteralExpression(init) && !isReadonly(d, d.initializer!))
        at(d, `module-level mutable array ${d.name.getText(sf)}`);
    }
  }
  return out;
}

function stripAssertions(e: ts.Expression): ts.Expression {
  while (ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isParenthesizedExpression(e) || ts.isTypeAssertionExpression(e))
    e = e.expression;
  return e;
}

/** An array declared readonly (by its type or `as const`) cannot be written through that name. */
function isReadonly(d: ts.VariableDeclaration, init: ts.Expression): boolean {
  const type = d.type?.getText() ?? '';
  return /^readonly |^Readonly/.test(type) || (ts.isAsExpression(init) && init.type.getText() === 'const');
}

/** `Date.parse` and `Date.UTC` compute from their arguments alone; every other use of Date reads the clock. */
function isPureDate(n: ts.Identifier): boolean {
  const p = n.parent;
  return n.text === 'Date' && ts.isPropertyAccessExpression(p) && p.expression === n && (p.name.text === 'parse' || p.name.text === 'UTC');
}

/** True when an identifier is read as a value: not a property name, a key or a type. */
function isReference(n: ts.Identifier): boolean {
  const p = n.parent;
  if (ts.isPropertyAccessExpression(p) && p.name === n) return false;
  if ((ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p) || ts.isMethodDeclaration(p) || ts.isPropertySignature(p)) && p.name === n)
    return false;
  if (ts.isTypeReferenceNode(p) || ts.isQualifiedName(p) || ts.isTypeQueryNode(p)) return false;
  return true;
}

t.test('the purity check catches each escape (so the checks below can fail)', async (t) => {
  const escapes: Record<string, string> = {
    'a clock: performance.now()': 'export function f(): number { return performance.now(); }',
    'a clock: Date()': 'export function f(): string { return Date(); }',
    'a clock: new Date()': 'export function f(): number { return new Date().getTime(); }',
    'a clock: Date.now()': 'export function f(): number { return Date.now(); }',
    'I/O: fetch()': 'export async function f(): Promise<unknown> { return fetch("http://x"); }',
    'the process: globalThis.process': 'export function f(): unknown { return globalThis.process.env; }',
    'the process: process.env': 'export function f(): unknown { return process.env.X; }',
    'randomness: Math.random()': 'export function f(): number { return Math.random(); }',
    'a timer: setTimeout': 'export function f(): void { setTimeout(() => {}, 1); }',
    'module-level state: a Map':
      'const seen = new Map<string, number>();\nexport function f(k: string): number { return seen.get(k) ?? 0; }',
    'module-level state: a WeakMap with a type assertion': 'const seen = new WeakMap() as WeakMap<object, number>;',
    'module-level state: let': 'let count = 0;\nexport function f(): number { return ++count; }',
    'module-level state: an array': 'const list: string[] = [];',
    'an I/O import': "import { readFileSync } from 'node:fs';",
    'a package import': "import forge from 'node-forge';",
    'an import at run time': "export async function f() { return import('./x.js'); }",
  };
  for (const [name, src] of Object.entries(escapes)) t.ok(impurities(src).length > 0, `caught: ${name}`, { found: impurities(src) });
  const pure = `import type { X } from './x.js';
export const TABLE = { a: 1 } as const;
export const LIST: readonly string[] = ['a'];
const ALSO = ['b'] as const;
const KINDS: ReadonlySet<string> = new Set(['a']);
export function when(s: string): number { return Date.parse(s) + (KINDS.has(s) ? 1 : 0); }
export function f(process: string, date: { now(): number }): number { const m = new Map<string, number>(); m.set(process, date.now()); return m.size + ALSO.length; }
export class C { readonly performance = 1; }`;
  t.same(impurities(pure), [], 'pure code passes: local names, readonly tables, containers inside functions');
});

/**
 * Inside core/, value imports flow down the pipeline (docs/engine.md): a stage may import the stages
 * before it, never one after it. Type-only imports may point anywhere: they leave no trace at run
 * time. Files at core/'s top (evaluate.ts, judge.ts) are the last stage.
 */
const STAGES: Record<string, number> = {
  model: 0,
  memo: 0,
  mesh: 1,
  policy: 2,
  rules: 3,
  traffic: 4,
  change: 5,
  verdict: 6,
  '': 7,
  plan: 8,
};

/** The stage of a file under src/core, by its folder ('' for the top). */
function stageOf(file: string): string {
  const parts = relative(join(SRC, 'core'), file).split('/');
  return parts.length > 1 ? parts[0]! : '';
}

t.test('the stage check catches an import against the pipeline (so the checks below can fail)', async (t) => {
  t.ok(
    stageViolations("import { findingsOf } from '../verdict/summaries.js';", join(SRC, 'core', 'change', 'x.ts')).length > 0,
    'change/ may not import verdict/',
  );
  t.same(
    stageViolations("import type { Finding } from '../verdict/summaries.js';", join(SRC, 'core', 'change', 'x.ts')),
    [],
    'a type-only import may',
  );
  t.same(stageViolations("import { Case } from '../model/cases.js';", join(SRC, 'core', 'rules', 'x.ts')), [], 'rules/ may import model/');
});

/** Value imports of a core file from a later stage. */
function stageViolations(text: string, file: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const from = stageOf(file);
  const out: string[] = [];
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier) || !st.moduleSpecifier.text.startsWith('.')) continue;
    const clause = st.importClause;
    const typeOnly =
      clause?.isTypeOnly ||
      (clause &&
        !clause.name &&
        clause.namedBindings &&
        ts.isNamedImports(clause.namedBindings) &&
        clause.namedBindings.elements.every((e) => e.isTypeOnly));
    if (typeOnly) continue;
    const to = stageOf(resolve(dirname(file), st.moduleSpecifier.text));
    if (STAGES[to]! > STAGES[from]!) out.push(`${from || 'core'}/ imports ${to || 'core'}/ (${st.moduleSpecifier.text})`);
  }
  return out;
}

for (const f of files(SRC)) {
  const layer = relative(SRC, f).split('/')[0]!;
  const text = readFileSync(f, 'utf8');
  t.test(relative(process.cwd(), f), async (t) => {
    const sf = ts.createSourceFile(f, text, ts.ScriptTarget.ES2022, true);
    for (const st of sf.statements) {
      const spec =
        (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)
          ? st.moduleSpecifier.text
          : undefined;
      if (!spec?.startsWith('.')) continue;
      const target = relative(SRC, resolve(dirname(f), spec)).split('/')[0]!;
      t.ok(ALLOWED[layer]?.includes(target), `${layer}/ may import ${target}/ (${spec})`);
    }
    if (layer === 'core') {
      t.same(impurities(text, f), [], 'core is pure: no I/O, process, clock, randomness, timers or module-level state');
      t.same(stageViolations(text, f), [], 'core imports flow down its pipeline');
    }
    if (layer !== 'config' && layer !== 'cli') t.notMatch(text, /process\.env/, 'only config/ and cli/ read the environment');
  });
}
