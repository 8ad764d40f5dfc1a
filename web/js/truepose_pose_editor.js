// TruePose_PoseEditor: the canvas pose editor inside the node (see pose_editor_widget.mjs).
import { chain, comfyApi, comfyApp } from "./comfy_app.mjs";
import { PoseEditor } from "./pose_editor_widget.mjs";

const app = await comfyApp();
const api = await comfyApi();

app.registerExtension({
  name: "TruePose.PoseEditor",
  beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData.name !== "TruePose_PoseEditor") return;
    const defaultPose = nodeData.input?.required?.pose_store?.[1]?.default_pose;

    chain(nodeType.prototype, "onNodeCreated", function () {
      this.truePoseEditor = new PoseEditor(this, { api, defaultPose });
      const widget = this.addDOMWidget("pose_editor", "truepose_pose_editor", this.truePoseEditor.root, { serialize: false, hideOnZoom: false });
      widget.serialize = false;
      widget.computeLayoutSize = () => ({ minHeight: 380, minWidth: 320 });
      this.setSize([380, Math.max(this.size[1], 520)]);
    });
    chain(nodeType.prototype, "onConfigure", function () {
      this.truePoseEditor?.refresh(); // a loaded workflow filled pose_store
    });
    chain(nodeType.prototype, "onExecuted", function (output) {
      this.truePoseEditor?.onExecuted(output?.truepose_pose?.[0]);
    });
  },
});
