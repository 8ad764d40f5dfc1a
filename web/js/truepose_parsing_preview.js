// Nodes that output TRUEPOSE_PARSING and send a `truepose_parsing` ui payload (nodes/previews.py)
// show the parsing over the source, with a legend and the label under the pointer.
// The preview widget exists from the node's creation (empty until the node runs), so the node's
// size is known when a workflow is laid out and does not grow over its neighbours after a run.
import { chain, comfyApi, comfyApp } from "./comfy_app.mjs";
import { ParsingPreview } from "./parsing_preview_widget.mjs";

const app = await comfyApp();
const api = await comfyApi();
const PREVIEW_MIN = { width: 320, height: 300 };

function addPreview(node) {
  node.truePoseParsingPreview = new ParsingPreview(api);
  const widget = node.addDOMWidget("parsing_preview", "truepose_parsing_preview", node.truePoseParsingPreview.root, { serialize: false, hideOnZoom: false });
  widget.serialize = false;
  widget.computeLayoutSize = () => ({ minHeight: PREVIEW_MIN.height, minWidth: PREVIEW_MIN.width - 60 });
  node.setSize([Math.max(node.size[0], PREVIEW_MIN.width), Math.max(node.size[1], node.computeSize()[1])]);
}

app.registerExtension({
  name: "TruePose.ParsingPreview",
  beforeRegisterNodeDef(nodeType, nodeData) {
    if (!nodeData.name?.startsWith("TruePose_") || !(nodeData.output ?? []).includes("TRUEPOSE_PARSING")) return;
    chain(nodeType.prototype, "onNodeCreated", function () {
      addPreview(this);
    });
    chain(nodeType.prototype, "onExecuted", function (output) {
      const payload = output?.truepose_parsing?.[0];
      if (payload) this.truePoseParsingPreview?.show(payload).catch((e) => console.warn("TruePose parsing preview:", e));
    });
  },
});
