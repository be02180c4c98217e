import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  coverageFill, cptsColor, mixWithWhite, onSeparator, overlapColors, setColours, setPalette, stripeIndex,
  stripePeriod, zoneBlancheInk,
} from "../colors.js";
import { SIMULATIONS, deltaE2000, rgbOf, hexOf, simulate, worstDistance } from "./vision.js";

// The one palette (the server reads the same file and hands it to the page).
const PALETTE = JSON.parse(readFileSync(new URL("../../../domain/cpts_palette.json", import.meta.url), "utf8"));
setPalette(PALETTE);
const KINDS = Object.keys(SIMULATIONS);  // normal, deuteranopia, protanopia, tritanopia
const MIN = PALETTE.min_distance;

/** A colour as the map shows it: at `opacity` over the white ground of the map. */
const shown = (color, opacity = PALETTE.cpts_opacity) => mixWithWhite(color, opacity);

/** The mean colour of a texture, in linear light (what the eye averages from afar). */
function meanColour(colorAt, side) {
  const linear = (v) => { const c = v / 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const sum = [0, 0, 0];
  for (let y = 0; y < side; y += 1) {
    for (let x = 0; x < side; x += 1) rgbOf(colorAt(x, y)).forEach((v, i) => { sum[i] += linear(v); });
  }
  return hexOf(sum.map((s) => {
    const c = s / (side * side);
    return 255 * (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);
  }));
}

const zone = PALETTE.zone_blanche;
const zoneBlancheMean = meanColour((x, y) => (zoneBlancheInk(x, y) ? zone.ink : zone.ground), zone.tile);

test("the simulations and CIEDE2000 give the published values", () => {
  assert.ok(Math.abs(deltaE2000("#000000", "#000000")) < 1e-9);
  // red and green, far apart for a trichromat, become one olive for a deuteranope
  assert.ok(deltaE2000("#d7191c", "#1a9641") > 40);
  assert.ok(deltaE2000(simulate("#d7191c", "deuteranopia"), simulate("#1a9641", "deuteranopia")) < 12);
  assert.equal(simulate("#ffffff", "protanopia"), "#ffffff");
  assert.equal(simulate("#808080", "tritanopia"), "#808080");
});

test("every two CPTS colours differ by the threshold under each simulation, as the map shows them", () => {
  const colours = PALETTE.cpts;
  assert.ok(colours.length >= 6 && colours.length <= 8, "a small palette");
  for (let i = 0; i < colours.length; i += 1) {
    for (let j = i + 1; j < colours.length; j += 1) {
      for (const kind of KINDS) {
        const distance = deltaE2000(simulate(shown(colours[i]), kind), simulate(shown(colours[j]), kind));
        assert.ok(distance >= MIN, `${colours[i]} / ${colours[j]} (${kind}): ΔE00 ${distance.toFixed(1)} < ${MIN}`);
      }
    }
  }
});

test("a zone blanche differs from every CPTS colour under each simulation, by its ground and its mean", () => {
  for (const color of PALETTE.cpts) {
    for (const reference of [zone.ground, zoneBlancheMean]) {
      const distance = worstDistance(shown(color), reference);
      assert.ok(distance >= MIN, `${color} / zone blanche ${reference}: ΔE00 ${distance.toFixed(1)}`);
    }
  }
  // and it is a texture: the dots stand out from the ground for everyone (not a hue only)
  assert.ok(worstDistance(zone.ink, zone.ground) >= 40);
  let ink = 0;
  for (let x = 0; x < zone.tile; x += 1) for (let y = 0; y < zone.tile; y += 1) ink += zoneBlancheInk(x, y) ? 1 : 0;
  assert.ok(ink >= 6 && ink <= zone.tile ** 2 / 3, `${ink} ink pixels a tile`);
  assert.equal(256 % zone.tile, 0, "the dots run on across the 256-pixel tiles");
  for (let x = 0; x < 40; x += 1) {
    for (let y = 0; y < 40; y += 1) assert.equal(zoneBlancheInk(x, y), zoneBlancheInk(x + 256, y - 256));
  }
});

test("the edit colour stands out from every CPTS colour around it, under each red-green simulation", () => {
  const { fill, outline, opacity, others_opacity: others } = PALETTE.edit;
  for (const color of PALETTE.cpts) {
    // in the edit mode the other CPTS are drawn faint around the perimeter being edited
    const distance = worstDistance(mixWithWhite(fill, opacity), mixWithWhite(color, others),
      ["normal", "deuteranopia", "protanopia"]);
    assert.ok(distance >= MIN, `${color}: ΔE00 ${distance.toFixed(1)}`);
  }
  // tritanopes are told the perimeter by its dark outline
  for (const color of PALETTE.cpts) assert.ok(worstDistance(outline, mixWithWhite(color, others)) >= 2 * MIN);
  assert.ok(worstDistance(mixWithWhite(fill, opacity), zoneBlancheMean, ["normal", "deuteranopia", "protanopia"]) >= MIN);
});

test("each CPTS takes the colour the server assigned, its id's when it has none", () => {
  setColours([{ id: 7, colour: 2 }, { id: 8, colour: 2 }, { id: 9, colour: null }]);
  assert.equal(cptsColor(7), PALETTE.cpts[2]);
  assert.equal(cptsColor("8"), PALETTE.cpts[2]);
  assert.equal(cptsColor(9), PALETTE.cpts[9 % PALETTE.cpts.length]);
  assert.equal(setColours([{ id: 7, colour: 2 }, { id: 9, colour: null }]), false, "nothing changed");
  assert.equal(setColours([{ id: 7, colour: 0 }]), true);
  assert.equal(cptsColor(7), PALETTE.cpts[0]);
});

test("a commune is zone blanche (ground and ink), single or overlap", () => {
  setColours([{ id: 2, colour: 1 }, { id: 3, colour: 4 }, { id: 9, colour: 3 }]);
  assert.deepEqual(coverageFill([]), { kind: "white", colors: [zone.ground, zone.ink] });
  assert.deepEqual(coverageFill([3]).colors, [PALETTE.cpts[4]]);
  const overlap = coverageFill([9, 2]);
  assert.equal(overlap.kind, "overlap");
  assert.deepEqual(overlap.colors, [PALETTE.cpts[1], PALETTE.cpts[3]]);
});

test("a colour flattened over white keeps its hue and lightens with transparency", () => {
  assert.equal(mixWithWhite("#d7191c", 1), "#d7191c");
  assert.equal(mixWithWhite("#d7191c", 0), "#ffffff");
  assert.equal(mixWithWhite("#000000", 0.6), "#666666");
});

test("the stripes of an overlap are the claimants' colours, and never twice the same", () => {
  setColours([{ id: 1, colour: 0 }, { id: 2, colour: 5 }, { id: 3, colour: 0 }, { id: 4, colour: 0 }]);
  assert.deepEqual(overlapColors([1, 2]), [PALETTE.cpts[0], PALETTE.cpts[5]]);
  // two claimants with one colour (more claimants than colours around): a second colour steps in
  const shared = overlapColors([1, 3, 4]);
  assert.equal(new Set(shared).size, 3);
  assert.equal(shared[0], PALETTE.cpts[0]);
  for (const color of shared) assert.ok(PALETTE.cpts.includes(color));
});

test("the separator tells two stripes apart under each simulation, and the stripes differ", () => {
  const separator = PALETTE.overlap.separator;
  for (const color of PALETTE.cpts) assert.ok(worstDistance(color, separator) >= MIN, color);
  for (let i = 0; i < PALETTE.cpts.length; i += 1) {
    for (let j = i + 1; j < PALETTE.cpts.length; j += 1) {
      assert.ok(worstDistance(PALETTE.cpts[i], PALETTE.cpts[j]) >= MIN, `${PALETTE.cpts[i]} / ${PALETTE.cpts[j]}`);
    }
  }
});

test("the hatching repeats without a seam inside a tile and across 256-pixel tiles", () => {
  const width = PALETTE.overlap.separator_width;
  for (const count of [2, 3, 4]) {
    const period = stripePeriod(count);
    assert.equal(256 % period, 0);
    const seen = new Set();
    for (let x = 0; x < 300; x += 1) {
      for (let y = 0; y < 40; y += 1) {
        const index = stripeIndex(x, y, count);
        seen.add(index);
        assert.equal(index, stripeIndex(x + 256, y, count));
        assert.equal(index, stripeIndex(x, y + 256, count));
        assert.equal(index, stripeIndex(x + 1, y - 1, count), "constant along a diagonal");
        assert.equal(onSeparator(x, y, count), onSeparator(x + 256, y - 256, count));
      }
    }
    assert.deepEqual([...seen].sort(), [...Array(count).keys()]);
    // each stripe: a separator of `width` pixels, then its colour over the rest of the band
    const colour = Array(count).fill(0);
    const line = Array(count).fill(0);
    for (let x = 0; x < period; x += 1) (onSeparator(x, 0, count) ? line : colour)[stripeIndex(x, 0, count)] += 1;
    assert.deepEqual(line, Array(count).fill(width));
    assert.ok(Math.min(...colour) >= Math.floor(period / count) - width);
    assert.ok(Math.min(...colour) >= 2 * width, "the colour is wider than the line");
  }
});

test("each stage of the GeoPackage's QGIS style takes its own palette colour", () => {
  const indices = Object.values(PALETTE.stages);
  assert.deepEqual(Object.keys(PALETTE.stages).sort(), ["aci_signe", "lettre_intention", "pre_projet", "projet_sante"]);
  assert.equal(new Set(indices).size, indices.length);
  for (const index of indices) assert.ok(Number.isInteger(index) && index >= 0 && index < PALETTE.cpts.length);
});
