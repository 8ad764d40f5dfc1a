// The parsing preview inside a node: the source photo with the palette map over it (opacity
// slider), a legend of the labels present, and the label under the pointer.
import { viewURL } from "./comfy_app.mjs";
import { css, labelAtPixel } from "./palette.mjs";
import { fitView, toPose } from "./pose_math.mjs";

function element(tag, props = {}, style = {}) {
  const el = Object.assign(document.createElement(tag), props);
  Object.assign(el.style, style);
  return el;
}

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`could not load ${src}`));
    img.src = src;
  });
}

export class ParsingPreview {
  constructor(api) {
    this.api = api;
    this.payload = null;
    this.root = element("div", { className: "truepose-parsing-preview" }, { display: "flex", flexDirection: "column", gap: "4px", font: "12px sans-serif", color: "#ddd" });
    this.canvas = element("canvas", { width: 300, height: 300 }, { width: "100%", flex: "1 1 auto", minHeight: "160px" });
    this.opacity = element("input", { type: "range", min: 0, max: 100, value: 60, className: "truepose-opacity", title: "Palette opacity" }, { flex: "1" });
    this.hover = element("span", { className: "truepose-hover" }, { minWidth: "90px", textAlign: "right" });
    const controls = element("div", {}, { display: "flex", gap: "6px", alignItems: "center" });
    controls.append(element("span", { textContent: "opacity" }), this.opacity, this.hover);
    this.legend = element("div", { className: "truepose-legend" }, { display: "flex", flexWrap: "wrap", gap: "2px 8px" });
    this.root.append(this.canvas, controls, this.legend);
    this.opacity.addEventListener("input", () => this.draw());
    this.canvas.addEventListener("pointermove", (e) => this.showLabelAt(e));
    this.canvas.addEventListener("pointerleave", () => { this.hover.textContent = ""; });
    new ResizeObserver(() => this.draw()).observe(this.canvas);
  }

  async show(payload) {
    this.payload = payload;
    const [palette, source] = await Promise.all([
      loadImage(viewURL(this.api, payload.palette)),
      payload.source ? loadImage(viewURL(this.api, payload.source)) : null,
    ]);
    this.palette = palette;
    this.source = source;
    const pixels = element("canvas", { width: palette.naturalWidth, height: palette.naturalHeight });
    const ctx = pixels.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(palette, 0, 0);
    this.paletteData = ctx.getImageData(0, 0, pixels.width, pixels.height);
    this.fillLegend(payload);
    this.draw();
    this.root.dataset.ready = "true";
  }

  fillLegend(payload) {
    this.legend.replaceChildren(
      ...payload.labels.map((label) => {
        const item = element("span", { className: "truepose-legend-item", title: `LIP id ${label.id}` }, { display: "inline-flex", alignItems: "center", gap: "3px" });
        item.dataset.label = label.name;
        const swatch = element("span", {}, { width: "10px", height: "10px", background: css(label.color), border: "1px solid #888" });
        item.append(swatch, `${label.name} ${Math.round(label.share * 100)}%`);
        return item;
      }),
    );
    if (payload.frames > 1) this.legend.append(element("span", { textContent: `(frame 1 of ${payload.frames})` }, { opacity: "0.7" }));
  }

  draw() {
    const { canvas, payload } = this;
    const w = Math.max(50, Math.round(canvas.clientWidth || 300));
    const h = Math.max(50, Math.round(canvas.clientHeight || 300));
    if (canvas.width !== w || canvas.height !== h) [canvas.width, canvas.height] = [w, h];
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#222";
    ctx.fillRect(0, 0, w, h);
    if (!payload || !this.palette) {
      ctx.fillStyle = "#888";
      ctx.textAlign = "center";
      ctx.fillText("the parsing shows here after a run", w / 2, h / 2);
      return;
    }
    this.view = fitView(w, h, payload.width, payload.height, 2);
    const { x, y, w: vw, h: vh } = this.view;
    if (this.source) ctx.drawImage(this.source, x, y, vw, vh);
    ctx.globalAlpha = Number(this.opacity.value) / 100;
    ctx.imageSmoothingEnabled = false; // label edges stay crisp
    ctx.drawImage(this.palette, x, y, vw, vh);
    ctx.globalAlpha = 1;
  }

  // The label under client point (x, y), or null outside the image.
  labelAt(clientX, clientY) {
    if (!this.paletteData || !this.view) return null;
    const rect = this.canvas.getBoundingClientRect();
    const point = [(clientX - rect.left) * (this.canvas.width / rect.width), (clientY - rect.top) * (this.canvas.height / rect.height)];
    const [nx, ny] = toPose(point, this.view);
    if (nx < 0 || ny < 0 || nx >= 1 || ny >= 1) return null;
    const { width, height, data } = this.paletteData;
    const i = 4 * (Math.floor(ny * height) * width + Math.floor(nx * width));
    return labelAtPixel(this.payload.labels, [data[i], data[i + 1], data[i + 2]]);
  }

  showLabelAt(e) {
    const label = this.labelAt(e.clientX, e.clientY);
    this.hover.textContent = label ? label.name : "";
    this.canvas.title = label ? label.name : "";
  }
}
