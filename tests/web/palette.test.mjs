import assert from "node:assert/strict";
import { test } from "node:test";
import { labelAtPixel, regionColour, vocColour } from "../../web/js/palette.mjs";

test("VOC palette: exact colours for LIP ids (ANCHORS 3.2)", () => {
  const table = {
    0: [0, 0, 0], 1: [128, 0, 0], 2: [0, 128, 0], 5: [128, 0, 128], 9: [192, 0, 0], 13: [192, 0, 128],
    14: [64, 128, 128], 18: [0, 192, 0], 19: [128, 192, 0],
  };
  for (const [id, colour] of Object.entries(table)) assert.deepEqual(vocColour(Number(id)), colour, `id ${id}`);
});

test("regions take the colour of their main LIP label", () => {
  assert.deepEqual(regionColour("face"), [192, 0, 128]);
  assert.deepEqual(regionColour("upper"), [128, 0, 128]);
  assert.equal(regionColour("strength"), null);
});

test("labelAtPixel matches a legend entry by exact colour", () => {
  const labels = [{ id: 13, name: "Face", color: [192, 0, 128] }, { id: 0, name: "Background", color: [0, 0, 0] }];
  assert.equal(labelAtPixel(labels, [192, 0, 128]).name, "Face");
  assert.equal(labelAtPixel(labels, [1, 2, 3]), null);
});
