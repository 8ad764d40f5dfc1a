// Apply TruePose: each region strength widget carries its region's palette colour (the colour the
// parsing preview draws that region in), as a stripe at the widget's left edge: drawn on the canvas
// by the classic renderer, a left border on the widget's row with Nodes 2.0 (DOM-rendered nodes,
// which do not call onDrawForeground and have no widget hook, so rows are found by their label).
import { chain, comfyApp, widgetByName } from "./comfy_app.mjs";
import { REGION_LABEL, css, regionColour } from "./palette.mjs";

const app = await comfyApp();
const NODES = new Set(["TruePose_Apply", "TruePose_ApplyAdvanced"]);
const STRIPE_WIDTH = 6;

function paintDomRows() {
  for (const node of app.graph?.nodes ?? []) {
    if (!NODES.has(node.type)) continue;
    const rows = document.querySelectorAll(`[data-node-id="${node.id}"] .lg-node-widget`);
    for (const row of rows) {
      const name = row.querySelector("p")?.textContent?.trim();
      const widget = name && widgetByName(node, name);
      if (!widget?.trueposeColour || row.dataset.trueposeColour === widget.trueposeColour) continue;
      row.dataset.trueposeColour = widget.trueposeColour;
      row.style.borderLeft = `${STRIPE_WIDTH}px solid ${widget.trueposeColour}`;
      row.style.paddingLeft = "2px";
    }
  }
}

let pending = false;
new MutationObserver(() => {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; paintDomRows(); });
}).observe(document.body, { childList: true, subtree: true });

app.registerExtension({
  name: "TruePose.RegionColors",
  beforeRegisterNodeDef(nodeType, nodeData) {
    if (!NODES.has(nodeData.name)) return;
    chain(nodeType.prototype, "onNodeCreated", function () {
      for (const region of Object.keys(REGION_LABEL)) {
        const widget = widgetByName(this, region);
        if (widget) widget.trueposeColour = css(regionColour(region));
      }
    });
    chain(nodeType.prototype, "onDrawForeground", function (ctx) {
      if (this.flags?.collapsed) return;
      const height = globalThis.LiteGraph?.NODE_WIDGET_HEIGHT ?? 20;
      for (const widget of this.widgets ?? []) {
        const y = widget.last_y ?? widget.y;
        if (!widget.trueposeColour || widget.hidden || y === undefined) continue;
        ctx.save();
        ctx.fillStyle = widget.trueposeColour;
        ctx.strokeStyle = "#999";
        ctx.lineWidth = 1;
        ctx.fillRect(4, y + 2, STRIPE_WIDTH, height - 4);
        ctx.strokeRect(4.5, y + 2.5, STRIPE_WIDTH - 1, height - 5);
        ctx.restore();
      }
    });
  },
});
