// The tests' own view of the Unleash that test/support/unleash-setup.ts started: plain requests to
// its admin API, written apart from src/adapters/flags-unleash.ts so that they check it rather
// than repeat it.

export interface UnleashEnv {
  url: string;
  adminToken: string;
  /** Backend token for environment development. */
  clientToken: string;
  /** Backend token for environment production, when the setup made one. */
  productionClientToken: string | undefined;
}

/** The server and tokens the globalSetup put in the environment. */
export function unleashEnv(): UnleashEnv {
  const url = process.env.UNLEASH_URL;
  const adminToken = process.env.UNLEASH_API_TOKEN;
  const clientToken = process.env.UNLEASH_CLIENT_TOKEN;
  if (!url || !adminToken || !clientToken) throw new Error('UNLEASH_URL, UNLEASH_API_TOKEN and UNLEASH_CLIENT_TOKEN are not set: is test/support/unleash-setup.ts the globalSetup?');
  return { url, adminToken, clientToken, productionClientToken: process.env.UNLEASH_CLIENT_TOKEN_PRODUCTION };
}

export interface AdminStrategy {
  id: string;
  name: string;
  disabled?: boolean;
  parameters: Record<string, string>;
}

export interface AdminEnvironment {
  name: string;
  enabled: boolean;
  strategies: AdminStrategy[];
}

export interface AdminFeature {
  name: string;
  type: string;
  project: string;
  environments: AdminEnvironment[];
}

/** One admin API request; returns status and parsed body (undefined for an empty one). */
export async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const { url, adminToken } = unleashEnv();
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { Authorization: adminToken, 'Content-Type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
}

async function ok(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await admin(method, path, body);
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The flag as the admin API shows it, or undefined when it does not exist in project default. */
export async function feature(name: string, project = 'default'): Promise<AdminFeature | undefined> {
  const res = await admin('GET', `/api/admin/projects/${project}/features/${name}`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET feature ${name}: ${res.status}`);
  return res.body as AdminFeature;
}

export async function environment(name: string, env: string): Promise<AdminEnvironment> {
  const f = await feature(name);
  const e = f?.environments.find((x) => x.name === env);
  if (!e) throw new Error(`flag ${name} has no environment ${env}`);
  return e;
}

export async function createFeature(name: string): Promise<void> {
  await ok('POST', '/api/admin/projects/default/features', { name, type: 'release' });
}

export async function switchEnvironment(name: string, env: string, on: boolean): Promise<void> {
  await ok('POST', `/api/admin/projects/default/features/${name}/environments/${env}/${on ? 'on' : 'off'}`);
}

export async function addStrategy(name: string, env: string, strategy: { name: string; parameters?: Record<string, string>; disabled?: boolean }): Promise<void> {
  await ok('POST', `/api/admin/projects/default/features/${name}/environments/${env}/strategies`, { constraints: [], parameters: {}, ...strategy });
}

/** How many events Unleash recorded for the flag: a write that happened shows here. */
export async function eventCount(name: string): Promise<number> {
  const body = (await ok('GET', `/api/admin/events/${name}`)) as { events: unknown[] };
  return body.events.length;
}
