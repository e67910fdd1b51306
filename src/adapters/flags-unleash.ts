/**
 * Unleash as the flag provider: a flag's state in one environment of one project, read and
 * switched through the admin API; and Unleash's client API (what SDKs fetch) as the evaluation
 * endpoint flag.set waits on. Tokens come from the environment and go only into the
 * Authorization header: no message, error or result of this file ever holds one.
 */
import type { FlagsConfig } from '../config.js';
import { ExitCode, MigrateError, TransientError, UsageError } from '../errors.js';
import { isOn, type FlagEvaluator, type FlagProvider, type FlagState } from './flags.js';
import { httpRequest, isRetryableStatus, type HttpResponse } from './http.js';

/** Each admin or client API call gets this long, connect to last byte. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Unleash answered, and the answer means the configuration (token, project, environment) is wrong:
 * exit 2. The fix is part of the message, because a failed step shows only its message.
 */
export class UnleashRefusedError extends MigrateError {
  constructor(problem: string, fix?: string) {
    super(fix === undefined ? problem : `${problem}: ${fix}`, ExitCode.badInput);
  }
}

/** A strategy as the admin API and the client API return it. */
interface UnleashStrategy {
  name?: string;
  disabled?: boolean | null;
  parameters?: Record<string, unknown>;
}

/** One environment of a flag, from GET /api/admin/projects/{project}/features/{flag}. */
interface FeatureEnvironment {
  name: string;
  enabled: boolean;
  strategies?: UnleashStrategy[];
}

/**
 * Does an enabled strategy serve anyone: one that is not disabled and whose rollout is not 0 %.
 * Constraints may narrow who is served; they are not evaluated here (that needs a context).
 */
export function servesSomeone(strategies: UnleashStrategy[] | undefined): boolean {
  return (strategies ?? []).some((s) => {
    if (s.disabled) return false;
    const p = s.parameters ?? {};
    // flexibleRollout: rollout; the older gradualRollout* strategies: percentage.
    for (const name of ['rollout', 'percentage']) {
      if (p[name] !== undefined && p[name] !== '' && Number(p[name]) === 0) return false;
    }
    return true;
  });
}

/**
 * A flag's environment as a FlagState: `enabled` is the environment's switch, `value` whether an
 * enabled strategy serves anyone there. isOn() needs both, because Unleash serves nobody from an
 * enabled environment without such a strategy. flag-check then reads "off (disabled)" for a
 * switched-off environment and "off" for one that is on but serves nobody.
 */
export function featureState(key: string, env: FeatureEnvironment): FlagState {
  return { key, enabled: env.enabled === true, value: servesSomeone(env.strategies) };
}

/** Settings both classes need; the token is kept here and only here. */
interface Endpoint {
  url: string;
  token: string;
}

/** Reads and switches a flag in one environment of one Unleash project, through the admin API. */
export class UnleashFlagProvider implements FlagProvider {
  readonly description: string;
  private readonly base: string;
  /** Project and environment checked once per provider: they do not come and go during a run. */
  private placeChecked = false;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly project: string,
    private readonly environment: string,
  ) {
    this.base = endpoint.url.replace(/\/+$/, '');
    this.description = `Unleash project ${project}, environment ${environment}`;
  }

  /** The provider flags.unleash and the environment describe; UNLEASH_URL and UNLEASH_API_TOKEN are required. */
  static fromConfig(config: FlagsConfig): UnleashFlagProvider {
    const u = config.unleash;
    if (!u?.url) throw new UsageError('the Unleash flag provider needs a URL: set UNLEASH_URL or flags.unleash.url in migrate.config.yaml');
    if (!u.token) {
      throw new UsageError('the Unleash flag provider needs an admin API token: set UNLEASH_API_TOKEN', 'the token is read only from the environment, never from migrate.config.yaml');
    }
    return new UnleashFlagProvider({ url: u.url, token: u.token }, u.project, u.environment);
  }

  async get(key: string): Promise<FlagState | undefined> {
    const env = await this.readEnvironment(key);
    return env ? featureState(key, env) : undefined;
  }

  async set(key: string, on: boolean): Promise<{ previous: FlagState | undefined; changed: boolean }> {
    let env = await this.readEnvironment(key);
    const previous = env ? featureState(key, env) : undefined;
    if (previous && isOn(previous) === on) return { previous, changed: false };

    if (!env) {
      await this.checkPlace(); // never create a flag in a project whose environment is not there
      await this.createFlag(key);
      env = await this.readEnvironment(key);
      if (!env) throw new Error(`Unleash at ${this.base} created flag ${key} but does not return it`);
    }
    const path = `${this.flagPath(key)}/environments/${encodeURIComponent(this.environment)}`;
    if (on) {
      // "On" with no strategy that serves anyone serves nobody: give it one that serves everyone
      // before switching on (else Unleash adds the project's default strategy, whatever that is).
      if (!servesSomeone(env.strategies)) {
        await this.call('POST', `${path}/strategies`, `add a strategy to flag ${key}`, {
          name: 'flexibleRollout',
          constraints: [],
          parameters: { rollout: '100', stickiness: 'default', groupId: key },
        });
      }
      if (!env.enabled) await this.call('POST', `${path}/on`, `switch flag ${key} on`);
    } else if (env.enabled) {
      await this.call('POST', `${path}/off`, `switch flag ${key} off`);
    }
    return { previous, changed: true };
  }

  /** The flag's entry for our environment; undefined when the flag does not exist in the project. */
  private async readEnvironment(key: string): Promise<FeatureEnvironment | undefined> {
    const res = await this.call('GET', this.flagPath(key), `read flag ${key}`, undefined, [404]);
    if (res.status === 404) {
      // Unleash says 404 for a missing project too: tell them apart, and name the one missing.
      await this.checkPlace();
      return undefined;
    }
    const feature = parseBody(res, this.base) as { environments?: FeatureEnvironment[] };
    const env = feature.environments?.find((e) => e.name === this.environment);
    if (!env) {
      await this.checkPlace(true);
      throw new UnleashRefusedError(`Unleash at ${this.base}: flag ${key} has no environment ${this.environment} in project ${this.project}`);
    }
    return env;
  }

  /** Throws an UnleashRefusedError naming the project or environment that is missing. */
  private async checkPlace(force = false): Promise<void> {
    if (this.placeChecked && !force) return;
    const project = await this.call('GET', `/api/admin/projects/${encodeURIComponent(this.project)}/overview`, `read project ${this.project}`, undefined, [404]);
    if (project.status === 404) {
      const projects = await this.call('GET', '/api/admin/projects', 'list projects');
      const ids = ((parseBody(projects, this.base) as { projects?: { id?: string }[] }).projects ?? []).map((p) => p.id).filter(Boolean);
      throw new UnleashRefusedError(
        `Unleash at ${this.base} has no project ${this.project} (404)`,
        `set flags.unleash.project in migrate.config.yaml or UNLEASH_PROJECT${ids.length ? ` to one of: ${ids.slice(0, 10).join(', ')}` : ''}`,
      );
    }
    const res = await this.call('GET', `/api/admin/environments/project/${encodeURIComponent(this.project)}`, `list the environments of project ${this.project}`);
    const envs = (parseBody(res, this.base) as { environments?: { name: string; enabled?: boolean; visible?: boolean }[] }).environments ?? [];
    const env = envs.find((e) => e.name === this.environment);
    const inProject = envs.filter((e) => e.visible !== false && e.enabled !== false).map((e) => e.name);
    const choose = `set flags.unleash.environment in migrate.config.yaml or UNLEASH_ENVIRONMENT${inProject.length ? ` to one of: ${inProject.join(', ')}` : ''}`;
    if (!env) throw new UnleashRefusedError(`Unleash at ${this.base} has no environment ${this.environment} (404)`, choose);
    if (env.enabled === false) throw new UnleashRefusedError(`environment ${this.environment} is disabled in Unleash at ${this.base}`, choose);
    if (env.visible === false) {
      throw new UnleashRefusedError(`environment ${this.environment} is not enabled in Unleash project ${this.project}`, `enable it in the project's settings, or ${choose}`);
    }
    this.placeChecked = true;
  }

  private async createFlag(key: string): Promise<void> {
    const res = await this.call('POST', `/api/admin/projects/${encodeURIComponent(this.project)}/features`, `create flag ${key}`, { name: key, type: 'release' }, [409]);
    if (res.status === 409) {
      // Flag names are unique across projects: it exists, just not in this project.
      throw new UnleashRefusedError(
        `Unleash at ${this.base} cannot create flag ${key} in project ${this.project}: ${serverMessage(res, [this.endpoint.token]) ?? 'a flag with that name already exists'} (409)`,
        'flag names are unique across projects: set flags.unleash.project (UNLEASH_PROJECT) to the flag\'s project',
      );
    }
  }

  private flagPath(key: string): string {
    return `/api/admin/projects/${encodeURIComponent(this.project)}/features/${encodeURIComponent(key)}`;
  }

  /** One admin API call; any status but 2xx and `accept` becomes an error that says what to fix. */
  private async call(method: string, path: string, doing: string, body?: unknown, accept: number[] = []): Promise<HttpResponse> {
    const res = await send(this.endpoint, this.base, method, path, body);
    if ((res.status >= 200 && res.status < 300) || accept.includes(res.status)) return res;
    const server = serverMessage(res, [this.endpoint.token]);
    const said = server ? `: ${server}` : '';
    switch (res.status) {
      case 401:
        throw new UnleashRefusedError(`Unleash at ${this.base} refused the token (401): set UNLEASH_API_TOKEN to an admin API token`);
      case 403:
        throw new UnleashRefusedError(
          `Unleash at ${this.base} denied the token permission to ${doing} in project ${this.project} (403)`,
          `set UNLEASH_API_TOKEN to an admin API token (not a client or frontend token) with access to project ${this.project}${server ? ` (Unleash says: ${server})` : ''}`,
        );
      case 404:
        throw new UnleashRefusedError(`Unleash at ${this.base} could not ${doing} (404)${said}`);
      case 400:
        throw new UnleashRefusedError(`Unleash at ${this.base} refused to ${doing} (400)${said}`);
    }
    if (isRetryableStatus(res.status)) throw new TransientError(`Unleash at ${this.base} answered ${res.status} to ${doing}${said}`);
    throw new Error(`Unleash at ${this.base} answered ${res.status} to ${doing}${said}`);
  }
}

/**
 * What Unleash's SDKs are served: the client API (GET /api/client/features, the endpoint SDKs
 * poll, with namePrefix to keep the answer small), with a client (backend) token scoped to one
 * environment. Unleash caches that answer until its revision id moves, which it re-reads every
 * second, so a switch shows here within about a second.
 */
export class UnleashClientEvaluator implements FlagEvaluator {
  readonly description: string;
  private readonly base: string;

  constructor(private readonly endpoint: Endpoint) {
    this.base = endpoint.url.replace(/\/+$/, '');
    this.description = `Unleash client API at ${this.base}`;
  }

  /** The evaluator flags.propagation.unleash asks for: UNLEASH_URL and UNLEASH_CLIENT_TOKEN are required. */
  static fromConfig(config: FlagsConfig): UnleashClientEvaluator {
    const p = config.propagation;
    const url = (p?.via === 'unleash' ? p.url : undefined) ?? config.unleash?.url;
    const token = p?.via === 'unleash' ? p.token : undefined;
    if (!url) throw new UsageError('waiting on Unleash\'s client API needs its URL: set UNLEASH_URL or flags.unleash.url in migrate.config.yaml');
    if (!token) {
      throw new UsageError(
        'waiting on Unleash\'s client API needs a client token: set UNLEASH_CLIENT_TOKEN',
        'a backend (client) API token for the environment flag.set switches; read only from the environment',
      );
    }
    // Unleash tokens read <project>:<environment>.<secret>: a token for another environment
    // would never see the switch, so say so now rather than time out later.
    const scoped = /^[^:.\s]+:([^.\s]+)\./.exec(token)?.[1];
    const environment = config.unleash?.environment;
    if (scoped && scoped !== '*' && environment && scoped !== environment) {
      throw new UsageError(`UNLEASH_CLIENT_TOKEN is scoped to environment ${scoped}, but flag.set switches environment ${environment}: set it to a client token for ${environment}`);
    }
    return new UnleashClientEvaluator({ url, token });
  }

  async evaluate(key: string): Promise<{ value: unknown } | undefined> {
    const res = await send(this.endpoint, this.base, 'GET', `/api/client/features?namePrefix=${encodeURIComponent(key)}`);
    const server = serverMessage(res, [this.endpoint.token]);
    const said = server ? `: ${server}` : '';
    if (res.status === 401) {
      throw new UnleashRefusedError(`Unleash at ${this.base} refused the client token (401): set UNLEASH_CLIENT_TOKEN to a backend (client) API token`);
    }
    if (res.status === 403) {
      throw new UnleashRefusedError(
        `Unleash at ${this.base} denied the client token access to the client API (403)`,
        `set UNLEASH_CLIENT_TOKEN to a backend (client) API token, not an admin or frontend token${server ? ` (Unleash says: ${server})` : ''}`,
      );
    }
    if (isRetryableStatus(res.status)) throw new TransientError(`Unleash at ${this.base} answered ${res.status} to a client API request${said}`);
    if (res.status !== 200) throw new Error(`Unleash at ${this.base} answered ${res.status} to a client API request${said}`);
    const body = parseBody(res, this.base) as { features?: { name?: string; enabled?: boolean; strategies?: UnleashStrategy[] }[] };
    const feature = body.features?.find((f) => f.name === key);
    if (!feature) return undefined;
    // The client API leaves out disabled strategies; a strategy at 0 % still serves nobody.
    return { value: feature.enabled === true && servesSomeone(feature.strategies) };
  }
}

/** One request with the token; connection failures are already TransientErrors (http.ts). */
async function send(endpoint: Endpoint, base: string, method: string, path: string, body?: unknown): Promise<HttpResponse> {
  return httpRequest({
    url: `${base}${path}`,
    method,
    headers: {
      // Unleash's API tokens go in the header as they are, with no "Bearer".
      authorization: endpoint.token,
      accept: 'application/json',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
}

function parseBody(res: HttpResponse, base: string): unknown {
  try {
    return JSON.parse(res.text) as unknown;
  } catch {
    throw new TransientError(`Unleash at ${base} answered ${res.status} with a body that is not JSON`);
  }
}

/** The server's own one-line explanation (details first), without anything that looks like our token. */
function serverMessage(res: HttpResponse, secrets: string[]): string | undefined {
  let text: string | undefined;
  try {
    const body = JSON.parse(res.text) as { message?: unknown; details?: { message?: unknown }[] };
    const detail = body.details?.find((d) => typeof d.message === 'string')?.message;
    const message = typeof body.message === 'string' ? body.message : undefined;
    text = typeof detail === 'string' && detail !== message && message?.startsWith('Request validation failed') ? detail : (message ?? (typeof detail === 'string' ? detail : undefined));
  } catch {
    return undefined;
  }
  if (!text) return undefined;
  // The whole token, and its secret part (after "<project>:<environment>.") alone.
  for (const secret of secrets.flatMap((s) => [s, s.slice(s.indexOf('.') + 1)])) {
    if (secret.length >= 8) text = text.split(secret).join('<token>');
  }
  const line = text.split('\n')[0]?.trim() ?? '';
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}
