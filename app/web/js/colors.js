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
  return { kind: "overlap", colors: overlapColors([...cptsIds].sort((a, b) => a - b).slice(0, MAX_STRIPES)) };
}

// --- overlaps: stripes that read as so many CPTS ------------------------------------------------

const MAX_STRIPES = 4;
/** Below this distance (CIE76 ΔE in Lab) two stripes read as one colour. */
export const MIN_STRIPE_DISTANCE = 30;
// High-contrast stand-ins (no red: red means zone blanche), for a claimant whose own colour is
// too close to one already in the stripes.
const STRIPE_PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#f0e442", "#5b2a86", "#8c564b", "#1b1b1b"];

function toLab(color) {
  const linear = [1, 3, 5].map((i) => {
    const c = parseInt(color.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const [r, g, b] = linear;
  const xyz = [(0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b,
    (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883];
  const f = (t) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  const [fx, fy, fz] = xyz.map(f);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** How different two colours look (CIE76 ΔE). */
export function colorDistance(a, b) {
  const [l1, a1, b1] = toLab(a);
  const [l2, a2, b2] = toLab(b);
  return Math.hypot(l1 - l2, a1 - a2, b1 - b2);
}

/**
 * The stripe colours of one overlap: each claimant keeps its own colour (as in the legend)
 * unless it is too close to a stripe already chosen; then the stand-in that differs most from
 * the chosen ones takes its place. Any two stripes differ by at least MIN_STRIPE_DISTANCE.
 */
export function overlapColors(ids) {
  const chosen = [];
  const nearest = (color) => Math.min(...chosen.map((other) => colorDistance(color, other)));
  for (const id of ids) {
    const own = cptsColor(id);
    if (!chosen.length || nearest(own) >= MIN_STRIPE_DISTANCE) { chosen.push(own); continue; }
    let best = STRIPE_PALETTE[0];
    for (const candidate of STRIPE_PALETTE) if (nearest(candidate) > nearest(best)) best = candidate;
    chosen.push(best);
  }
  return chosen;
}

/** The repeat of the hatching in pixels: a divisor of the 256-pixel tiles, so that the stripes
 * run on from one tile to the next without a break. */
export function stripePeriod(count) {
  return count <= 2 ? 16 : 32;
}

/** Which stripe a pixel of the hatching belongs to: `count` diagonal bands of (nearly) equal
 * width, periodic in x and y with `period` pixels, so the pattern repeats seamlessly. */
export function stripeIndex(x, y, count, period = stripePeriod(count)) {
  const along = (((x + y) % period) + period) % period;
  return Math.floor((along * count) / period);
}

const patterns = new Map();

/** A diagonal hatching of the given colours, as a canvas pattern (cached): every pixel set
 * to its stripe's colour (no stroke ends, no antialiased gaps: no seams where it repeats). */
export function hatchPattern(colors) {
  const key = colors.join(",");
  if (patterns.has(key)) return patterns.get(key);
  if (typeof document === "undefined") return colors[0];
  const canvas = document.createElement("canvas");
  const side = stripePeriod(colors.length);
  canvas.width = canvas.height = side;
  const context = canvas.getContext("2d");
  const image = context.createImageData(side, side);
  const rgb = colors.map((color) => [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16)));
  for (let y = 0; y < side; y += 1) {
    for (let x = 0; x < side; x += 1) {
      const [r, g, b] = rgb[stripeIndex(x, y, colors.length, side)];
      const offset = 4 * (y * side + x);
      image.data[offset] = r;
      image.data[offset + 1] = g;
      image.data[offset + 2] = b;
      image.data[offset + 3] = 255;
    }
  }
  context.putImageData(image, 0, 0);
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
