// The two guards against one port given to two local services started side by side (the test
// setup starts flagd, the registry and Unleash at once): freePorts hands a port out once per
// process, and the registry is ready only when the registry itself answers.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts } from '../../scripts/kafka-lib.mjs';
import { servesSubjects } from '../../scripts/registry-lib.mjs';

describe('freePorts', () => {
  it('never hands out a port twice in one process, across calls', async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 100; i++) {
      const ports = await freePorts(3);
      expect(new Set(ports).size).toBe(3);
      for (const port of ports) {
        expect(seen.has(port), `port ${port} handed out twice`).toBe(false);
        seen.add(port);
      }
    }
  });
});

describe("the registry's readiness check", () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  async function serve(status: number, body: string): Promise<string> {
    server = http.createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(body));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/apis/ccompat/v7/subjects`;
  }

  it("takes a JSON list of subjects for the registry's answer", async () => {
    expect(await servesSubjects(await serve(200, '["a-value"]'), false)).toBe(true);
  });

  it('does not take another server on the port (a 404, a 200 that is not a list) for the registry', async () => {
    expect(await servesSubjects(await serve(404, '404 page not found'), false)).toBe(false);
    await new Promise((resolve) => server!.close(resolve));
    expect(await servesSubjects(await serve(200, '{"status":"ok"}'), false)).toBe(false);
    await new Promise((resolve) => server!.close(resolve));
    expect(await servesSubjects(await serve(401, ''), false)).toBe(false);
    await new Promise((resolve) => server!.close(resolve));
    expect(await servesSubjects(await serve(401, ''), true)).toBe(true);
  });

  it('nothing listening is not ready', async () => {
    const [port] = await freePorts(1);
    expect(await servesSubjects(`http://127.0.0.1:${port}/apis/ccompat/v7/subjects`, false)).toBe(false);
  });
});
