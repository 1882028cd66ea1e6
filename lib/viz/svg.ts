/**
 * Small helpers for writing standalone SVG text: escaping, a rough text-width estimate for
 * layout without a browser, and the font stack figures use.
 */

/**
 * Fonts that exist on the machines people read GitHub on (macOS, Windows, Linux, Android), so an
 * SVG shown as an image there renders with a real sans-serif font rather than a serif fallback.
 */
export const FIGURE_FONT_FAMILY =
  "-apple-system, BlinkMacSystemFont, 'Segoe UI', 'Noto Sans', Helvetica, Arial, sans-serif";

export const SVG_NAMESPACE = "http://www.w3.org/2000/svg";

/** Escapes text for use in XML text content and double-quoted attribute values. */
export function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/**
 * Approximate rendered width of `text` in a proportional sans-serif font. There is no font
 * engine here, so layout uses average glyph widths; narrow and wide glyphs are told apart to
 * keep legends from overlapping.
 */
export function estimateTextWidth(text: string, fontSize: number): number {
  let ems = 0;
  for (const char of text) {
    if ("iljtf.,:;'!|() ".includes(char)) ems += 0.32;
    else if ("mwMW@".includes(char)) ems += 0.86;
    else if (char >= "A" && char <= "Z") ems += 0.66;
    else ems += 0.56;
  }
  return ems * fontSize;
}

/** Formats a number for an SVG attribute without long binary fractions. */
export function svgNumber(value: number): string {
  return String(Math.round(value * 100) / 100);
}
