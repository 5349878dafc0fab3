/**
 * Node's Buffer has fast, encoding-specific methods that skip `write()`/`toString()`'s argument
 * normalisation (they back those public methods internally and exist in every Node >= 12). The hot path
 * uses them to encode subjects and decode control lines; this declares their types.
 */
declare global {
  interface Buffer {
    latin1Write(str: string, offset?: number, length?: number): number;
    utf8Write(str: string, offset?: number, length?: number): number;
    latin1Slice(start?: number, end?: number): string;
  }
}

export {};
