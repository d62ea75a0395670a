/** /openapi.json covers every dialect from the route schemas; /docs serves its assets locally. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/app-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('OpenAPI', () => {
  it('documents the routes of every dialect with their schemas', async () => {
    const res = await h.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> }; parameters?: { name: string }[] }>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of ['/rtm/v1/query', '/rtm/v1/stream', '/rtm/v1/prometheus', '/rtm/v1/alerts', '/v1/channel/{service_id}/ts/{ts}', '/metrics/products/{prodId}/configurations', '/api/metric/v1', '/ingest', '/admin/tokens']) {
      expect(Object.keys(doc.paths), path).toContain(path);
    }
    const query = doc.paths['/rtm/v1/query']?.['post']?.requestBody?.content['application/json']?.schema.properties ?? {};
    expect(Object.keys(query)).toEqual(expect.arrayContaining(['from', 'to', 'granularity', 'metrics', 'groupBy', 'filters', 'orderBy', 'limit']));
    expect(doc.paths['/rtm/v1/query']?.['get']?.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['from', 'metrics', 'groupBy', 'filter']));
  });

  it('serves the interactive reference from local assets', async () => {
    const page = await h.inject({ url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('swagger-ui');
    // No script or stylesheet from another host.
    expect(page.body).not.toMatch(/(src|href)="https?:\/\//);
    const asset = await h.inject({ url: '/docs/static/swagger-ui-bundle.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.body.length).toBeGreaterThan(100_000);
  });
});
