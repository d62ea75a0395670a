/**
 * The stored `dimension` column as a DimensionName. Both engines read it back through here, so a
 * dimension added to the model (the top values' path and client_ip, model/top-values.ts) is read
 * as itself everywhere instead of falling into a default.
 */
import type { DimensionName } from '../model/record.ts';
import { TOP_VALUE_DIMENSIONS } from '../model/top-values.ts';

const DIMENSION_NAMES: ReadonlySet<string> = new Set<DimensionName>(['method', 'status', ...TOP_VALUE_DIMENSIONS]);

/** The name as stored; anything unknown reads as 'method', the only other name rows were written with before. */
export const dimensionNameOf = (stored: string): DimensionName => (DIMENSION_NAMES.has(stored) ? (stored as DimensionName) : 'method');
