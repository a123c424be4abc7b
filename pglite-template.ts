import { writeTemplate } from './src/db/pglite-template.js';

/**
 * Part of `npm run build`: writes the template a fresh embedded database starts from
 * (dist/pglite-template/<key>.tar, see src/db/pglite-template.ts).
 */
const file = await writeTemplate();
console.log(`pglite template: ${file}`);
