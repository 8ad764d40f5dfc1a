// Nodes that output TRUEPOSE_PARSING and send a `truepose_parsing` ui payload (nodes/previews.py)
// show the parsing over the source, with a legend and the label under the pointer.
import { chain, comfyApi, comfyApp } from "./comfy_app.mjs";
import { ParsingPreview } from "./parsing_preview_widget.mjs";

const app = await comfyApp();
const api = await comfyApi();

function previewOf(node) {
  if (!node.truePoseParsingPreview) {
    node.truePoseParsingPreview = new ParsingPreview(api);
    const widget = node.addDOMWidget("parsing_preview", "truepose_parsing_preview", node.truePoseParsingPreview.root, { serialize: false, hideOnZoom: false });
    widget.serialize = false;
    widget.computeLayoutSize = () => ({ minHeight: 300, minWidth: 260 });
    node.setSize([Math.max(node.size[0], 320), Math.max(node.size[1], node.computeSize()[1])]);
  }
  return node.truePoseParsingPreview;
}

app.registerExtension({
  name: "TruePose.ParsingPreview",
  beforeRegisterNodeDef(nodeType, nodeData) {
    if (!nodeData.name?.startsWith("TruePose_") || !(nodeData.output ?? []).includes("TRUEPOSE_PARSING")) return;
    chain(nodeType.prototype, "onExecuted", function (output) {
      const payload = output?.truepose_parsing?.[0];
      if (payload) previewOf(this).show(payload).catch((e) => console.warn("TruePose parsing preview:", e));
    });
  },
});
