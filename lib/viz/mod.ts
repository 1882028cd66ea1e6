/**
 * Figures, images, progress and notebook output for the experiments and notebooks: Observable
 * Plot charts as standalone SVG, frames as PNG and GIF, a progress reporter for terminals, CI
 * logs and notebooks, and display helpers that do nothing outside Jupyter.
 */
export { type FigureOptions, Plot, renderPlot, saveFigure, showFigure } from "./plot.ts";
export { type RasterizedFigure, svgToPng } from "./raster.ts";
export {
  type Bar,
  barChart,
  type BarChartOptions,
  type ChartFrameOptions,
  lineChart,
  type LineChartOptions,
  type LineSeries,
} from "./charts.ts";
export { tableFigure, type TableFigureOptions } from "./table_figure.ts";
export {
  crc32,
  encodeGif,
  encodePng,
  type Frame,
  frameFrom,
  type GifOptions,
  hstack,
  type Rgb,
  saveImage,
  showGif,
  showImage,
  sideBySide,
  type StackOptions,
  toRgb,
  upscale,
} from "./image.ts";
export { solidFrame } from "./frame.ts";
export {
  createProgress,
  type Progress,
  type ProgressMode,
  type ProgressOptions,
  type ProgressReporter,
} from "./progress.ts";
export {
  displayBundle,
  type DisplayOptions,
  inNotebook,
  markdownTable,
  type MediaBundle,
  showHtml,
  showMarkdown,
  showTable,
  type TableOptions,
} from "./notebook.ts";
export { formatCell, formatDuration, formatRate } from "./format.ts";
