import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The CI examples in the docs are copied as they stand: each must at least be the YAML it claims
// to be, and hand GitLab the file that --junit writes.
const doc = (file: string) => readFile(new URL(`../../${file}`, import.meta.url), 'utf8');

describe('docs/ci/gitlab.md', () => {
  it('its .gitlab-ci.yml parses, and artifacts:reports:junit names the file --junit writes, kept when the job fails', async () => {
    const block = /```yaml\n# \.gitlab-ci\.yml\n([\s\S]*?)```/.exec(await doc('docs/ci/gitlab.md'))?.[1];
    expect(block).toBeTruthy();
    const ci = parse(block as string) as Record<string, { script?: string[]; artifacts?: { when?: string; reports?: { junit?: string } } }>;
    const job = ci['migrate-orders'];
    const junit = job?.artifacts?.reports?.junit;
    expect(junit).toBe('reports/migrate.xml');
    expect(job?.artifacts?.when).toBe('always');
    expect(job?.script?.some((line) => line.includes('npx migrate run') && line.includes(`--junit ${junit}`))).toBe(true);
  });
});
