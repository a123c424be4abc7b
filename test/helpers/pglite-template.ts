import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTemplate, templateKey } from '../../src/db/pglite-template.js';

let cached: Promise<Blob> | undefined;

/**
 * The template of a fresh embedded database (src/db/pglite-template.ts) for the sources, so each
 * test server starts fast. Kept in the OS temp dir across test processes, under its key.
 */
export function pgliteTemplate(): Promise<Blob> {
  cached ??= (async () => {
    const file = join(tmpdir(), `inkwell-pglite-${templateKey()}.tar`);
    if (existsSync(file)) return new Blob([readFileSync(file)]);
    const bytes = await makeTemplate();
    // Write then rename: parallel test processes never see half a file.
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, bytes);
    renameSync(partial, file);
    return new Blob([bytes]);
  })();
  return cached;
}
