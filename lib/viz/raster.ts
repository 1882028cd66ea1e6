/**
 * SVG figures to PNG, for notebook outputs: GitHub's and nbviewer's notebook renderers blank or
 * break inline SVG outputs, and nbconvert's HTML export strips their elements, while every viewer
 * shows a PNG. Rendered with resvg (the `@resvg/resvg-js` npm package ships its binary) at twice
 * the figure's size, shown at its size, so text stays sharp on high-density screens.
 */
import { UserError } from "../errors.ts";

/** Sans-serif fonts tried for the figures' text, in order (the first one installed is used). */
const SANS_SERIF = "DejaVu Sans";

export interface RasterizedFigure {
  png: Uint8Array;
  /** The figure's own width in CSS pixels (the PNG is `scale` times wider). */
  width: number;
  height: number;
}

/** Renders an SVG document to PNG at `scale` times its size. */
export async function svgToPng(svg: string, scale = 2): Promise<RasterizedFigure> {
  let Resvg: typeof import("@resvg/resvg-js").Resvg;
  try {
    ({ Resvg } = await import("@resvg/resvg-js"));
  } catch (error) {
    throw new UserError(
      `figures to PNG need @resvg/resvg-js (deno install; run with --allow-ffi): ${
        (error as Error).message.split("\n")[0]
      }`,
    );
  }
  const renderer = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: SANS_SERIF, sansSerifFamily: SANS_SERIF },
  });
  const image = renderer.render();
  return {
    png: image.asPng(),
    width: Math.round(image.width / scale),
    height: Math.round(image.height / scale),
  };
}
