// Colours of the coverage view: one distinct colour per CPTS, a strong red for zones blanches,
// hatching (two colours) where CPTS overlap. Colour choice is pure; patterns need a canvas.

export const WHITE_ZONE = "#d7191c";
export const EDIT_FILL = "#ffd23f";
export const EDIT_OUTLINE = "#b3001b";
const GOLDEN_ANGLE = 137.508;

function hslToHex(h, s, l) {
  const a = s * Math.min(l, 1 - l);
  const f = (n) => {
    const k = (n + h / 30) % 12;
    const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(255 * c).toString(16).padStart(2, "0");
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

/**
 * A colour per CPTS id: hues spread by the golden angle so that neighbours in the list (and
 * usually on the map) differ; hues stay off red (red means zone blanche).
 */
export function cptsColor(id) {
  const hue = 45 + ((Number(id) * GOLDEN_ANGLE) % 270);
  const lightness = [0.55, 0.42, 0.66][Number(id) % 3];
  return hslToHex(hue, 0.62, lightness);
}

/** The fill of a commune in the coverage view, from the CPTS that cover it. */
export function coverageFill(cptsIds) {
  if (!cptsIds || cptsIds.length === 0) return { kind: "white", colors: [WHITE_ZONE] };
  if (cptsIds.length === 1) return { kind: "single", colors: [cptsColor(cptsIds[0])] };
  return { kind: "overlap", colors: [...cptsIds].sort((a, b) => a - b).slice(0, 3).map(cptsColor) };
}

const patterns = new Map();

/** A diagonal hatching of the given colours, as a canvas pattern (cached). */
export function hatchPattern(colors, size = 8) {
  const key = colors.join(",");
  if (patterns.has(key)) return patterns.get(key);
  if (typeof document === "undefined") return colors[0];
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size * colors.length;
  const context = canvas.getContext("2d");
  const side = canvas.width;
  colors.forEach((color, index) => {
    context.strokeStyle = color;
    context.lineWidth = size * 0.75;
    for (let offset = -side * 2; offset < side * 2; offset += side) {
      const shift = offset + index * size;
      context.beginPath();
      context.moveTo(shift, side);
      context.lineTo(shift + side, 0);
      context.stroke();
      context.beginPath();
      context.moveTo(shift + side, side);
      context.lineTo(shift + 2 * side, 0);
      context.stroke();
    }
  });
  const pattern = context.createPattern(canvas, "repeat");
  patterns.set(key, pattern);
  return pattern;
}

/** `color` (#rrggbb) at `opacity` over white, as an opaque colour. */
export function mixWithWhite(color, opacity) {
  const channel = (index) => {
    const value = parseInt(color.slice(1 + 2 * index, 3 + 2 * index), 16);
    return Math.round(255 - (255 - value) * opacity).toString(16).padStart(2, "0");
  };
  return `#${channel(0)}${channel(1)}${channel(2)}`;
}
