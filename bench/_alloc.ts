for (let round = 0; round < 5; round++) {
  let t = performance.now();
  let keep: Float64Array[] = [];
  for (let i = 0; i < 20 * 120; i++) keep.push(new Float64Array(265 * 61));
  console.log('alloc 129KB x120:', ((performance.now() - t) / 20).toFixed(2), 'ms');
  keep = [];
  t = performance.now();
  const big = [];
  for (let i = 0; i < 20; i++) big.push(new Float64Array(265 * 61 * 120));
  console.log('alloc 15MB x1:', ((performance.now() - t) / 20).toFixed(2), 'ms');
}
