/**
 * The layering `npm test` enforces: imports follow the data path, each layer importing only the
 * ones below it. Bottom to top:
 *   model, config, startup-error, build-info  (shapes, settings, shared utilities)
 *   http        (the error registry, auth, request principals, limits: HTTP plumbing)
 *   ingest -> aggregate -> store -> query -> alerts -> api -> dashboard, demo
 *   app.ts, services.ts, main.ts               (composition)
 *   cli                                        (the commands, which start the composition)
 * Tests are exempt: a test may reach up to build the app it tests.
 */
const LAYERS = [
  ['^src/(model|config)/|^src/(startup-error|build-info)\\.ts$'],
  ['^src/http/'],
  ['^src/ingest/'],
  ['^src/aggregate/'],
  ['^src/store/'],
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
