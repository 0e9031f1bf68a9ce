// Builds the web page into ../dist: index.html, docs.html, hashed assets and manifest.json.
// Deterministic: the same sources and node_modules give the same bytes (no timestamps, no
// absolute paths, content-hashed names). Prints each file's size, raw and gzip, and the total.
import { build, transform } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const src = join(here, 'src');
const modules = join(here, 'node_modules');

const TYPES = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  html: 'text/html; charset=utf-8',
  svg: 'image/svg+xml',
  txt: 'text/plain; charset=utf-8',
};

const hash = (bytes) => createHash('sha256').update(bytes).digest('hex').slice(0, 10);
const files = []; // { path, file, content_type, immutable, bytes }

/** Writes an asset under assets/ with its content hash in the name; returns its URL path. */
function asset(stem, ext, content) {
  const bytes = Buffer.from(content);
  const file = `assets/${stem}-${hash(bytes)}.${ext}`;
  files.push({ path: `/${file}`, file, content_type: TYPES[ext], immutable: true, bytes });
  return `/${file}`;
}

function page(path, file, content) {
  files.push({ path, file, content_type: TYPES.html, immutable: false, bytes: Buffer.from(content) });
}

// Drops the trailing sourceMappingURL comment: maps are not shipped.
const stripMap = (text) => text.replace(/\n?\/[/*]# sourceMappingURL=[^\n]*\s*$/, '\n');

// The application: one JS bundle and one CSS bundle (uPlot's CSS imported by ours).
const bundle = await build({
  entryPoints: { app: join(src, 'main.jsx'), style: join(src, 'styles.css') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'eof',
  charset: 'utf8',
  define: { 'process.env.NODE_ENV': '"production"' },
  outdir: 'out',
  write: false,
  absWorkingDir: here,
  logLevel: 'warning',
});
let appJs, appCss;
for (const out of bundle.outputFiles) {
  if (out.path.endsWith('app.js')) appJs = asset('app', 'js', out.contents);
  else if (out.path.endsWith('style.css')) appCss = asset('app', 'css', out.contents);
  else throw new Error(`unexpected build output ${out.path}`);
}

const favicon = asset('favicon', 'svg', readFileSync(join(src, 'favicon.svg')));

const fill = (template, values) =>
  template.replace(/\{\{(\w+)\}\}/g, (_, key) => {
    if (!(key in values)) throw new Error(`template placeholder {{${key}}} has no value`);
    return values[key];
  });

page('/', 'index.html', fill(readFileSync(join(src, 'index.html'), 'utf8'), { appJs, appCss, favicon }));

// The API explorer: swagger-ui-dist's bundle and CSS, and our init script, all external files.
const swagger = join(modules, 'swagger-ui-dist');
const swaggerJs = asset('swagger-ui-bundle', 'js', stripMap(readFileSync(join(swagger, 'swagger-ui-bundle.js'), 'utf8')));
const swaggerCss = asset('swagger-ui', 'css', stripMap(readFileSync(join(swagger, 'swagger-ui.css'), 'utf8')));
const swaggerLicense = asset('swagger-ui-license', 'txt', readFileSync(join(swagger, 'LICENSE')));
const init = await transform(readFileSync(join(src, 'docs-init.js'), 'utf8'), { minify: true, loader: 'js', target: 'es2020' });
const docsInit = asset('docs-init', 'js', init.code);
const docsCss = asset('docs', 'css', (await transform(readFileSync(join(src, 'docs.css'), 'utf8'), { minify: true, loader: 'css' })).code);
page('/docs', 'docs.html', fill(readFileSync(join(src, 'docs.html'), 'utf8'), { swaggerJs, swaggerCss, docsInit, docsCss, favicon, swaggerLicense }));

// Write everything, from an empty directory so stale assets never linger.
rmSync(dist, { recursive: true, force: true });
for (const f of files) {
  mkdirSync(dirname(join(dist, f.file)), { recursive: true });
  writeFileSync(join(dist, f.file), f.bytes);
}
files.sort((a, b) => a.file.localeCompare(b.file));
const manifest = files.map(({ path, file, content_type, immutable }) => ({ path, file, content_type, immutable }));
writeFileSync(join(dist, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

// Sizes.
const kb = (n) => `${(n / 1024).toFixed(1).padStart(8)} KiB`;
let raw = 0, gz = 0;
console.log(`${'file'.padEnd(44)} ${'raw'.padStart(12)} ${'gzip'.padStart(12)}`);
for (const f of files) {
  const g = gzipSync(f.bytes, { level: 9 }).length;
  raw += f.bytes.length;
  gz += g;
  console.log(`${f.file.padEnd(44)} ${kb(f.bytes.length)} ${kb(g)}`);
}
console.log(`${'total'.padEnd(44)} ${kb(raw)} ${kb(gz)}`);
console.log(`wrote ${files.length} files and manifest.json to ${dist}`);
