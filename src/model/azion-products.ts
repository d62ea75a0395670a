/**
 * Azion product ids (the seed's table) and the event `product` each one reads.
 */
import type { Product } from './event.ts';

export const AZION_PRODUCTS: Readonly<Record<string, Product>> = {
  '1441740010': 'edge_application',
  '1498670028': 'data_streaming',
  '1531930033': 'edge_functions',
  '1441110021': 'image_processor',
  '1563390045': 'intelligent_dns',
  '1564082375': 'l2_caching',
  '1441740004': 'live_streaming',
  '1441740012': 'load_balancer',
};

/** The product of an Azion product id, if it is one. */
export const productOf = (prodId: string): Product | undefined =>
  Object.hasOwn(AZION_PRODUCTS, prodId) ? AZION_PRODUCTS[prodId] : undefined;
