/**
 * Box-and-arrow diagrams as standalone SVG, for the architecture figures of the notes (World
 * Models' V-M-C, Dreamer's training loop, PlaNet's latent planning). Boxes are placed by hand on
 * a coordinate grid; arrows run between box edges, straight or bent around a corner.
 */
import { escapeXml, FIGURE_FONT_FAMILY, SVG_NAMESPACE } from "./svg.ts";

export interface DiagramBox {
  id: string;
  /** Centre of the box. */
  x: number;
  y: number;
  width: number;
  height: number;
  /** First line in bold, further lines smaller. */
  lines: readonly string[];
  fill?: string;
  /** Dashed outline, e.g. for the environment outside the agent. */
  dashed?: boolean;
}

export interface DiagramArrow {
  from: string;
  to: string;
  label?: string;
  /** "straight" joins the facing edges; "elbow" goes horizontally then vertically. */
  route?: "straight" | "elbow" | "loop-below" | "loop-above";
  dashed?: boolean;
}

export interface Diagram {
  width: number;
  height: number;
  title?: string;
  boxes: readonly DiagramBox[];
  arrows: readonly DiagramArrow[];
  /** Free text, e.g. a caption at the bottom. */
  notes?: readonly { x: number; y: number; text: string; anchor?: "start" | "middle" | "end" }[];
}

const INK = "#222";
const ARROW = "#444";

/** Where the segment from the box centre toward (tx, ty) leaves the box. */
function edgePoint(box: DiagramBox, tx: number, ty: number): [number, number] {
  const dx = tx - box.x;
  const dy = ty - box.y;
  if (dx === 0 && dy === 0) return [box.x, box.y];
  const scale = Math.min(
    dx === 0 ? Infinity : box.width / 2 / Math.abs(dx),
    dy === 0 ? Infinity : box.height / 2 / Math.abs(dy),
  );
  return [box.x + dx * scale, box.y + dy * scale];
}

function arrowPath(arrow: DiagramArrow, from: DiagramBox, to: DiagramBox): {
  d: string;
  labelAt: [number, number];
} {
  const route = arrow.route ?? "straight";
  if (route === "elbow") {
    const startX = from.x + Math.sign(to.x - from.x) * from.width / 2;
    const endY = to.y - Math.sign(to.y - from.y) * to.height / 2;
    return {
      d: `M${startX},${from.y} H${to.x} V${endY}`,
      labelAt: [(startX + to.x) / 2, from.y - 8],
    };
  }
  if (route === "loop-below" || route === "loop-above") {
    const below = route === "loop-below";
    const side = below ? 1 : -1;
    const startY = from.y + side * from.height / 2;
    const endY = to.y + side * to.height / 2;
    const depth = Math.max(startY, endY) * (below ? 1 : 0) +
      Math.min(startY, endY) * (below ? 0 : 1) +
      side * 40;
    return {
      d: `M${from.x},${startY} V${depth} H${to.x} V${endY}`,
      labelAt: [(from.x + to.x) / 2, depth + side * 14],
    };
  }
  const [x1, y1] = edgePoint(from, to.x, to.y);
  const [x2, y2] = edgePoint(to, from.x, from.y);
  return { d: `M${x1},${y1} L${x2},${y2}`, labelAt: [(x1 + x2) / 2, (y1 + y2) / 2 - 8] };
}

/** Renders a diagram to the text of a standalone SVG file. */
export function renderDiagram(diagram: Diagram): string {
  const byId = new Map(diagram.boxes.map((box) => [box.id, box]));
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="${SVG_NAMESPACE}" width="${diagram.width}" height="${diagram.height}" ` +
      `viewBox="0 0 ${diagram.width} ${diagram.height}" font-family="${FIGURE_FONT_FAMILY}">`,
    `<defs><marker id="head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" ` +
      `markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${ARROW}"/>` +
      `</marker></defs>`,
    `<rect width="100%" height="100%" fill="white"/>`,
  );
  if (diagram.title) {
    parts.push(
      `<text x="16" y="26" font-size="16" font-weight="bold" fill="${INK}">` +
        `${escapeXml(diagram.title)}</text>`,
    );
  }
  for (const box of diagram.boxes) {
    const left = box.x - box.width / 2;
    const top = box.y - box.height / 2;
    parts.push(
      `<rect x="${left}" y="${top}" width="${box.width}" height="${box.height}" rx="8" ` +
        `fill="${box.fill ?? "#eef3fb"}" stroke="${INK}" stroke-width="1.2"` +
        `${box.dashed ? ' stroke-dasharray="5,4"' : ""}/>`,
    );
    const lineHeight = 16;
    const firstY = box.y - ((box.lines.length - 1) * lineHeight) / 2 + 5;
    box.lines.forEach((line, i) => {
      const style = i === 0 ? 'font-size="14" font-weight="bold"' : 'font-size="11.5"';
      parts.push(
        `<text x="${box.x}" y="${firstY + i * lineHeight}" text-anchor="middle" ${style} ` +
          `fill="${INK}">${escapeXml(line)}</text>`,
      );
    });
  }
  for (const arrow of diagram.arrows) {
    const from = byId.get(arrow.from);
    const to = byId.get(arrow.to);
    if (!from || !to) throw new Error(`arrow ${arrow.from} -> ${arrow.to}: unknown box`);
    const { d, labelAt } = arrowPath(arrow, from, to);
    parts.push(
      `<path d="${d}" fill="none" stroke="${ARROW}" stroke-width="1.6" marker-end="url(#head)"` +
        `${arrow.dashed ? ' stroke-dasharray="5,4"' : ""}/>`,
    );
    if (arrow.label) {
      parts.push(
        `<text x="${labelAt[0]}" y="${labelAt[1]}" text-anchor="middle" font-size="12" ` +
          `font-style="italic" fill="${INK}" paint-order="stroke" stroke="white" ` +
          `stroke-width="4">${escapeXml(arrow.label)}</text>`,
      );
    }
  }
  for (const note of diagram.notes ?? []) {
    parts.push(
      `<text x="${note.x}" y="${note.y}" text-anchor="${note.anchor ?? "start"}" font-size="12" ` +
        `fill="#555">${escapeXml(note.text)}</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
