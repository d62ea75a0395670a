/** The store's resolutions: the 1 s tier and the rollups (config sets a retention per tier). */
export type Tier = '1s' | '1m' | '1h' | '1d';
export const TIERS: readonly Tier[] = ['1s', '1m', '1h', '1d'];
export const TIER_SECONDS: Readonly<Record<Tier, number>> = { '1s': 1, '1m': 60, '1h': 3600, '1d': 86_400 };
