import { Sublist } from '../routing/sublist.js';
import type { Subscription } from './subscription.js';

/** The global account every client belongs to until accounts are configured. */
export const GLOBAL_ACCOUNT = '$G';

/** A subject space: clients of one account never see another account's messages. */
export class Account {
  readonly sublist = new Sublist<Subscription>();

  constructor(readonly name: string) {}
}
