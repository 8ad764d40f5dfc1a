// The PASCAL VOC colour map human-parsing packs draw labels with (id bits spread over R, G, B
// from the top bit down), and the LIP label each TruePose region is shown in.
export function vocColour(id) {
  let [r, g, b] = [0, 0, 0];
  for (let shift = 7, c = id; shift >= 0; shift--, c >>= 3) {
    r |= (c & 1) << shift;
    g |= ((c >> 1) & 1) << shift;
    b |= ((c >> 2) & 1) << shift;
  }
  return [r, g, b];
}

export const REGION_LABEL = { face: 13, hair: 2, upper: 5, lower: 9, skin: 14, shoes: 18, background: 0 };

export const css = ([r, g, b], alpha = 1) => `rgba(${r}, ${g}, ${b}, ${alpha})`;

export function regionColour(region) {
  return region in REGION_LABEL ? vocColour(REGION_LABEL[region]) : null;
}

// The legend entry whose colour a pixel has (exact: palette maps are lossless PNGs).
export function labelAtPixel(labels, [r, g, b]) {
  return labels.find((l) => l.color[0] === r && l.color[1] === g && l.color[2] === b) ?? null;
}
