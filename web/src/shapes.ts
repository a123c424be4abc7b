import type { AiGenerating, Drawing, Point, ShapeInput } from '../../client/index.js';

/** The view: a world point p is drawn at p·zoom + offset. */
export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

export const toWorld = (v: Viewport, sx: number, sy: number): Point => ({ x: (sx - v.x) / v.zoom, y: (sy - v.y) / v.zoom });
export const toScreen = (v: Viewport, p: Point): Point => ({ x: p.x * v.zoom + v.x, y: p.y * v.zoom + v.y });

type Shape = ShapeInput | Drawing;

const images = new Map<string, HTMLImageElement>();

/** A picture, loaded once; `onload` repaints the board when it arrives. */
function image(url: string, onload: () => void): HTMLImageElement {
  let img = images.get(url);
  if (!img) {
    img = new Image();
    img.addEventListener('load', onload);
    img.src = url;
    images.set(url, img);
  }
  return img;
}

export function fontSize(shape: Shape): number {
  return 12 + (shape.strokeWidth ?? 2) * 3;
}

/** Paints one shape in world coordinates (the context is already transformed). */
export function paint(ctx: CanvasRenderingContext2D, shape: Shape, repaint: () => void): void {
  ctx.strokeStyle = ctx.fillStyle = shape.color ?? '#000000';
  ctx.lineWidth = shape.strokeWidth ?? 2;
  ctx.lineCap = ctx.lineJoin = 'round';
  const pts = shape.points ?? [];
  switch (shape.shapeType) {
    case 'line':
    case 'hand':
    case 'arrow': {
      if (pts.length === 0) return;
      ctx.beginPath();
      ctx.moveTo(pts[0]!.x, pts[0]!.y);
      for (const p of pts.slice(1)) ctx.lineTo(p.x, p.y);
      if (pts.length === 1) ctx.lineTo(pts[0]!.x + 0.1, pts[0]!.y);
      ctx.stroke();
      if (shape.shapeType === 'arrow' && pts.length >= 2) arrowHead(ctx, pts[pts.length - 2]!, pts[pts.length - 1]!, ctx.lineWidth);
      return;
    }
    case 'rectangle':
      ctx.strokeRect(shape.x ?? 0, shape.y ?? 0, shape.width ?? 0, shape.height ?? 0);
      return;
    case 'circle':
      ctx.beginPath();
      ctx.arc(shape.x ?? 0, shape.y ?? 0, Math.abs(shape.radius ?? (shape.width ?? 0) / 2), 0, Math.PI * 2);
      ctx.stroke();
      return;
    case 'text':
      ctx.font = `${fontSize(shape)}px system-ui, sans-serif`;
      ctx.textBaseline = 'top';
      ctx.fillText(shape.text ?? '', shape.x ?? 0, shape.y ?? 0);
      return;
    case 'image': {
      const [x, y, w, hgt] = [shape.x ?? 0, shape.y ?? 0, shape.width ?? 512, shape.height ?? 512];
      const img = shape.imageUrl ? image(shape.imageUrl, repaint) : null;
      if (img?.complete && img.naturalWidth > 0) ctx.drawImage(img, x, y, w, hgt);
      else {
        ctx.fillStyle = '#e5e7eb';
        ctx.fillRect(x, y, w, hgt);
      }
      return;
    }
  }
}

function arrowHead(ctx: CanvasRenderingContext2D, from: Point, to: Point, width: number): void {
  const angle = Math.atan2(to.y - from.y, to.x - from.x);
  const size = 8 + width * 2;
  ctx.beginPath();
  ctx.moveTo(to.x, to.y);
  ctx.lineTo(to.x - size * Math.cos(angle - Math.PI / 6), to.y - size * Math.sin(angle - Math.PI / 6));
  ctx.lineTo(to.x - size * Math.cos(angle + Math.PI / 6), to.y - size * Math.sin(angle + Math.PI / 6));
  ctx.closePath();
  ctx.fill();
}

/** Where a picture being generated will land, drawn as a dashed frame with its prompt. */
export function paintPlaceholder(ctx: CanvasRenderingContext2D, g: AiGenerating): void {
  const [x, y, w, hgt] = [g.x ?? 100, g.y ?? 100, g.width ?? 512, g.height ?? 512];
  ctx.save();
  ctx.fillStyle = 'rgba(99, 102, 241, 0.08)';
  ctx.fillRect(x, y, w, hgt);
  ctx.setLineDash([10, 8]);
  ctx.strokeStyle = '#6366f1';
  ctx.lineWidth = 2;
  ctx.strokeRect(x, y, w, hgt);
  ctx.fillStyle = '#4338ca';
  ctx.font = '16px system-ui, sans-serif';
  ctx.textBaseline = 'top';
  ctx.fillText('Generating picture…', x + 12, y + 12);
  ctx.fillText(g.prompt.slice(0, 60), x + 12, y + 36);
  ctx.restore();
}

/** The box a shape covers, in world coordinates (for selection). */
export function bounds(shape: Shape): { x: number; y: number; w: number; h: number } {
  const pts = shape.points ?? [];
  if (shape.shapeType === 'circle') {
    const r = Math.abs(shape.radius ?? (shape.width ?? 0) / 2);
    return { x: (shape.x ?? 0) - r, y: (shape.y ?? 0) - r, w: 2 * r, h: 2 * r };
  }
  if (shape.shapeType === 'text') {
    const size = fontSize(shape);
    return { x: shape.x ?? 0, y: shape.y ?? 0, w: (shape.text ?? '').length * size * 0.6, h: size * 1.2 };
  }
  if (pts.length > 0) {
    const xs = pts.map((p) => p.x);
    const ys = pts.map((p) => p.y);
    return { x: Math.min(...xs), y: Math.min(...ys), w: Math.max(...xs) - Math.min(...xs), h: Math.max(...ys) - Math.min(...ys) };
  }
  const [x, y, w, hgt] = [shape.x ?? 0, shape.y ?? 0, shape.width ?? 0, shape.height ?? 0];
  return { x: Math.min(x, x + w), y: Math.min(y, y + hgt), w: Math.abs(w), h: Math.abs(hgt) };
}

/** The topmost drawing under a world point (with a few pixels of slack). */
export function hit(drawings: Drawing[], p: Point, slack: number): Drawing | undefined {
  for (let i = drawings.length - 1; i >= 0; i--) {
    const b = bounds(drawings[i]!);
    if (p.x >= b.x - slack && p.x <= b.x + b.w + slack && p.y >= b.y - slack && p.y <= b.y + b.h + slack) return drawings[i];
  }
  return undefined;
}
