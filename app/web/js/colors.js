// Colours of the coverage view, for every reader including the colour-blind: each CPTS in one of
// a few colours the server assigned so that neighbours differ (app/domain/cpts_colours.py), zones
// blanches as dark dots on a pale ground (a texture, not only a hue), overlaps as diagonal stripes
// of the claimants' colours with a white line between them. The palette comes with the page
// (config.palette, from app/domain/cpts_palette.json: the one source). Colour choice is pure;
// patterns need a canvas.

let palette = null;
const colourIndex = new Map();

/** The palette of the page (`config.palette`); called once by main.js before any drawing. */
export function setPalette(value) {
  palette = value;
  patterns.clear();
  images.clear();
}

export function currentPalette() {
  if (!palette) throw new Error("Palette de la carte absente de la configuration.");
  return palette;
}

/** The colour index of each CPTS, as the server assigned it (`colour` in the listings);
 * whether any changed (a saved perimeter can change its neighbours' colours). */
export function setColours(cptsList) {
  let changed = false;
  for (const cpts of cptsList) {
    const id = Number(cpts.id);
    const index = cpts.colour ?? undefined;
    if (colourIndex.get(id) === index) continue;
    changed = true;
    if (index === undefined) colourIndex.delete(id);
    else colourIndex.set(id, index);
  }
  return changed;
}

/** The colour of a CPTS: its index in the palette (the id's when the server gave none). */
export function cptsColor(id) {
  const colours = currentPalette().cpts;
  const index = colourIndex.get(Number(id)) ?? Number(id);
  return colours[((index % colours.length) + colours.length) % colours.length];
}

/** The fill opacity of a commune or a CPTS outline in one CPTS' colour. */
export function cptsOpacity() {
  return currentPalette().cpts_opacity;
}

/** The colours of the perimeter being edited: fill, outline and opacities. */
export function editColours() {
  return currentPalette().edit;
}

/** The fill of a commune in the coverage view, from the CPTS that cover it. */
export function coverageFill(cptsIds) {
  if (!cptsIds || cptsIds.length === 0) {
    const { ground, ink } = currentPalette().zone_blanche;
    return { kind: "white", colors: [ground, ink] };
  }
  if (cptsIds.length === 1) return { kind: "single", colors: [cptsColor(cptsIds[0])] };
  return { kind: "overlap", colors: overlapColors([...cptsIds].sort((a, b) => a - b).slice(0, MAX_STRIPES)) };
}

// --- overlaps: stripes that read as so many CPTS ------------------------------------------------

const MAX_STRIPES = 4;

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
 * The stripe colours of one overlap: each claimant its own colour (as in the legend). The
 * claimants of a commune are neighbours, so the server's colouring gives them different
 * colours; should two still share one (more claimants than colours), the palette colour that
 * differs most from the stripes already chosen takes the second place.
 */
export function overlapColors(ids) {
  const chosen = [];
  const nearest = (color) => Math.min(...chosen.map((other) => colorDistance(color, other)));
  for (const id of ids) {
    const own = cptsColor(id);
    if (!chosen.includes(own)) { chosen.push(own); continue; }
    let best = null;
    for (const candidate of currentPalette().cpts) {
      if (!chosen.includes(candidate) && (best === null || nearest(candidate) > nearest(best))) best = candidate;
    }
    chosen.push(best ?? own);
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

/** Whether a pixel of the hatching is on the separator line at the start of its stripe (the
 * first `separator_width` pixels of each band, along x). */
export function onSeparator(x, y, count, period = stripePeriod(count)) {
  const along = (((x + y) % period) + period) % period;
  const start = Math.ceil((stripeIndex(x, y, count, period) * period) / count);
  return along - start < currentPalette().overlap.separator_width;
}

/** Whether a pixel of the zone blanche texture is ink (a dot) rather than ground: two dots per
 * tile, staggered, so the dots run on across 256-pixel tiles. */
export function zoneBlancheInk(x, y) {
  const { tile, dot_radius: radius } = currentPalette().zone_blanche;
  const px = ((x % tile) + tile) % tile;
  const py = ((y % tile) + tile) % tile;
  return [tile / 4, (3 * tile) / 4].some((centre) =>
    (px - centre) ** 2 + (py - centre) ** 2 <= radius ** 2);
}

const patterns = new Map();
const images = new Map();

function rgbOf(color) {
  return [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
}

/** A square canvas of `side` pixels, each set by `colorAt(x, y)` (no antialiasing, no seam). */
function paintTile(side, colorAt) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = side;
  const context = canvas.getContext("2d");
  const image = context.createImageData(side, side);
  for (let y = 0; y < side; y += 1) {
    for (let x = 0; x < side; x += 1) {
      const [r, g, b] = colorAt(x, y);
      const offset = 4 * (y * side + x);
      image.data[offset] = r;
      image.data[offset + 1] = g;
      image.data[offset + 2] = b;
      image.data[offset + 3] = 255;
    }
  }
  context.putImageData(image, 0, 0);
  return canvas;
}

function hatchTile(colors) {
  const rgb = colors.map(rgbOf);
  const separator = rgbOf(currentPalette().overlap.separator);
  const side = stripePeriod(colors.length);
  return paintTile(side, (x, y) => (onSeparator(x, y, colors.length, side)
    ? separator : rgb[stripeIndex(x, y, colors.length, side)]));
}

function zoneBlancheTile() {
  const { ground, ink, tile } = currentPalette().zone_blanche;
  const [groundRgb, inkRgb] = [rgbOf(ground), rgbOf(ink)];
  return paintTile(tile, (x, y) => (zoneBlancheInk(x, y) ? inkRgb : groundRgb));
}

function cachedPattern(key, tile, fallback) {
  if (patterns.has(key)) return patterns.get(key);
  if (typeof document === "undefined") return fallback;
  const canvas = tile();
  const pattern = canvas.getContext("2d").createPattern(canvas, "repeat");
  patterns.set(key, pattern);
  return pattern;
}

/** A diagonal hatching of the given colours with a separator line, as a canvas pattern
 * (cached): every pixel set to its stripe's colour (no seams where it repeats). */
export function hatchPattern(colors) {
  return cachedPattern(colors.join(","), () => hatchTile(colors), colors[0]);
}

/** The zone blanche texture (dark dots on a pale ground), as a canvas pattern (cached). */
export function zoneBlanchePattern() {
  return cachedPattern("zone-blanche", zoneBlancheTile, currentPalette().zone_blanche.ground);
}

/** A legend swatch's CSS background, the same texture as on the map: "white" (zone blanche)
 * or "overlap" (two palette colours). */
export function swatchBackground(kind) {
  if (!images.has(kind)) {
    const tile = kind === "white" ? zoneBlancheTile() : hatchTile(currentPalette().cpts.slice(0, 2));
    images.set(kind, `url(${tile.toDataURL("image/png")}) repeat`);
  }
  return images.get(kind);
}

/** `color` (#rrggbb) at `opacity` over white, as an opaque colour. */
export function mixWithWhite(color, opacity) {
  const channel = (index) => {
    const value = parseInt(color.slice(1 + 2 * index, 3 + 2 * index), 16);
    return Math.round(255 - (255 - value) * opacity).toString(16).padStart(2, "0");
  };
  return `#${channel(0)}${channel(1)}${channel(2)}`;
}
