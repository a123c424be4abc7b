import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import t from 'tap';

const root = resolve(import.meta.dirname, '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  for (const m of source.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm)) {
    specifiers.push((m[1] ?? m[2] ?? m[3])!);
  }
  return specifiers;
}

/** Why a domain file may not import `specifier`, or null when it may. */
function forbidden(file: string, specifier: string): string | null {
  if (specifier === 'fastify' || specifier.startsWith('fastify/') || specifier.startsWith('fastify-') || specifier.startsWith('@fastify/')) return 'Fastify';
  // Domain code reports through observer interfaces; plugins/metrics.ts turns them into metrics.
  if (specifier === 'prom-client') return 'prom-client';
  if (!specifier.startsWith('.')) return null;
  const target = relative(root, resolve(file, '..', specifier));
  if (target.startsWith('plugins/') || target.startsWith('routes/')) return target.split('/')[0]!;
  return null;
}

t.test('the import finder sees every form of import', async (t) => {
  const src = `import a from 'fastify';\nimport type { B } from "@fastify/jwt";\nexport { c } from '../plugins/x.js';\nimport '../routes/y.js';\nconst d = await import('fastify-plugin');\nimport {\n  e,\n} from './e.js';`;
  t.same(importsOf(src), ['fastify', '@fastify/jwt', '../plugins/x.js', '../routes/y.js', 'fastify-plugin', './e.js']);
  t.equal(forbidden(join(root, 'src/a.ts'), '../routes/y.js'), 'routes');
  t.equal(forbidden(join(root, 'src/a.ts'), './e.js'), null);
  t.equal(forbidden(join(root, 'src/a.ts'), 'prom-client'), 'prom-client');
});

t.test('src/ is the domain: no Fastify, no metrics library, nothing from plugins/ or routes/', async (t) => {
  const files = tsFiles(join(root, 'src'));
  t.ok(files.length > 20, 'found the domain files');
  const offences = files.flatMap((file) =>
    importsOf(readFileSync(file, 'utf8'))
      .map((specifier) => ({ file: relative(root, file), specifier, why: forbidden(file, specifier) }))
      .filter((o) => o.why !== null),
  );
  t.same(offences, [], 'no file under src/ imports Fastify, prom-client, plugins/ or routes/');
});

t.test('the OpenAI SDK is reached only through the model adapters and their error mappers', async (t) => {
  const adapters = new Set([
    'src/images/openai-image-studio.ts',
    'src/images/provider-failure.ts',
    'src/tutor/openai-tutor-model.ts',
    'src/tutor/provider-errors.ts',
    'src/provider-call.ts',
  ]);
  const users = tsFiles(join(root, 'src'))
    .filter((file) => importsOf(readFileSync(file, 'utf8')).some((s) => s === 'openai' || s.startsWith('openai/')))
    .map((file) => relative(root, file));
  t.ok(users.length > 0, 'the adapters import it');
  t.same(
    users.filter((file) => !adapters.has(file)),
    [],
    'TutorTurn and the room see only TutorModel and ImageStudio',
  );
});
