/**
 * FNV-1a over a value's JSON text: a short, stable name for a config, used to tell runs apart in
 * folder names and to refuse files written for another config. Not for security.
 */
export function configHash(value: unknown): string {
  const text = JSON.stringify(value);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}
