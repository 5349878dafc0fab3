/** The nats-server version whose client protocol we implement; clients gate features on INFO's `version`. */
export const VERSION = '2.10.29';
/** tsnats' own version (kept equal to package.json's; a unit test checks). */
export const TSNATS_VERSION = '0.1.0';
