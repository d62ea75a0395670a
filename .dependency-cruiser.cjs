/**
 * The layering `npm test` enforces: imports follow the data path, each layer importing only the
 * ones below it. The write path imports downstream, each stage knowing the next (ingest hands
 * deltas to aggregate and the store, as Prometheus' scrape appends to the head and storage); the
 * read path imports upstream (api asks query, query reads the window and the store). So the store
 * is the bottom of both. Bottom to top:
 *   model, config, startup-error, build-info  (shapes, settings, shared utilities)
 *   http        (the error registry, auth, request principals, limits: HTTP plumbing)
 *   store < aggregate < ingest < query < alerts < api < dashboard, demo
 *   app.ts, services.ts, main.ts               (composition)
 *   cli                                        (the commands, which start the composition)
 * Tests are exempt: a test may reach up to build the app it tests.
 */
const LAYERS = [
  ['^src/(model|config)/|^src/(startup-error|build-info)\\.ts$'],
  ['^src/http/'],
  ['^src/store/'],
  ['^src/aggregate/'],
  ['^src/ingest/'],
  ['^src/query/'],
  ['^src/alerts/'],
  ['^src/api/'],
  ['^src/(dashboard|demo)/'],
  ['^src/(app|services|main)\\.ts$'],
  ['^src/cli/'],
];
const above = (i) => LAYERS.slice(i + 1).flat();

module.exports = {
  forbidden: [
    ...LAYERS.slice(0, -1).map((paths, i) => ({
      name: `layer-${i}-imports-up`,
      comment: `${paths.join(' ')} may only import its own layer and the ones below it (see .dependency-cruiser.cjs)`,
      severity: 'error',
      from: { path: paths.join('|'), pathNot: '\\.test\\.ts$|test-helpers\\.ts$|record-fixtures\\.ts$|store-conformance\\.ts$' },
      to: { path: above(i).join('|') },
    })),
    { name: 'no-circular', severity: 'error', from: { pathNot: '\\.test\\.ts$' }, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
