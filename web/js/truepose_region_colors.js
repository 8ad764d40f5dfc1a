// Apply TruePose: each region strength widget carries its region's palette colour (the colour the
// parsing preview draws that region in), as a stripe at the widget's left edge.
import { chain, comfyApp, widgetByName } from "./comfy_app.mjs";
import { REGION_LABEL, css, regionColour } from "./palette.mjs";

const app = await comfyApp();
const NODES = new Set(["TruePose_Apply", "TruePose_ApplyAdvanced"]);
const STRIPE_WIDTH = 6;

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
