// Part of `npm run build`: puts the dashboard's page (src/dashboard/public) and the charting
// library it draws with (uPlot, from node_modules) into dist/dashboard/public, which the
// dashboard serves. Nothing is fetched at run time; the npm package ships dist/.
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = path.join(root, 'dist/dashboard/public');
const page = path.join(root, 'src/dashboard/public');
const uplot = path.dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

await mkdir(out, { recursive: true });
for (const file of await readdir(page)) await copyFile(path.join(page, file), path.join(out, file));
for (const file of ['uPlot.iife.min.js', 'uPlot.min.css']) await copyFile(path.join(uplot, file), path.join(out, file));
