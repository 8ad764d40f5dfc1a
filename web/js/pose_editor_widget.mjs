// The canvas editor inside a TruePose_PoseEditor node. The pose lives in the node's hidden
// `pose_store` widget (normalised POSE_KEYPOINT JSON); an empty store means "the incoming pose,
// else the default skeleton" on the server side too.
import { drawPose } from "./pose_canvas.mjs";
import {
  KEYPOINT_NAMES, bodyPoints, deletePoint, fitView, flipFrame, hitTest, movePoint, normaliseFrames,
  scaleFrame, setVisible, toCanvas, toPose, withCanvas,
} from "./pose_math.mjs";
import { hideWidget, viewURL, widgetByName } from "./comfy_app.mjs";

export const MATCH_ROUTE = "/truepose/pose/match_proportions";
const BUTTONS = [
  ["toggle", "Hide / show", "Hide the selected joint (or show it again) [H]"],
  ["delete", "Delete", "Delete the selected joint [Del]"],
  ["flip", "Flip", "Mirror the frame left-right"],
  ["smaller", "Scale −", "Shrink the frame by 10 %"],
  ["bigger", "Scale +", "Grow the frame by 10 %"],
  ["load-input", "Load input", "Replace the edit with the incoming pose (run the workflow first)"],
  ["reset", "Reset", "Forget the edit: the node outputs the incoming pose or the default skeleton"],
  ["match", "Match source proportions", "Retarget onto reference_pose's build (run the workflow first)"],
];

function element(tag, props = {}, style = {}) {
  const el = Object.assign(document.createElement(tag), props);
  Object.assign(el.style, style);
  return el;
}

export class PoseEditor {
  constructor(node, { api, defaultPose }) {
    this.node = node;
    this.api = api;
    this.defaultPose = defaultPose;
    this.store = widgetByName(node, "pose_store");
    this.input = null; // last executed incoming pose (normalised)
    this.reference = null;
    this.backgrounds = [];
    this.index = 0;
    this.selected = null;
    this.dragging = false;
    hideWidget(this.store);
    for (const name of ["width", "height"]) {
      const w = widgetByName(node, name);
      const callback = w?.callback;
      if (w) w.callback = (...args) => { callback?.apply(w, args); this.draw(); };
    }
    this.buildDOM();
    this.refresh();
  }

  buildDOM() {
    this.root = element("div", { className: "truepose-pose-editor" }, { display: "flex", flexDirection: "column", gap: "4px", font: "12px sans-serif", color: "#ddd" });
    this.canvas = element("canvas", { tabIndex: 0, width: 320, height: 320 }, { width: "100%", flex: "1 1 auto", minHeight: "200px", cursor: "crosshair", outline: "none" });
    this.slider = element("input", { type: "range", min: 0, max: 0, value: 0, className: "truepose-frame" }, { flex: "1" });
    this.frameLabel = element("span", { className: "truepose-frame-label" });
    const scrubber = element("div", {}, { display: "flex", gap: "6px", alignItems: "center" });
    scrubber.append(this.slider, this.frameLabel);
    const toolbar = element("div", {}, { display: "flex", flexWrap: "wrap", gap: "3px" });
    for (const [action, label, title] of BUTTONS) {
      const button = element("button", { textContent: label, title, type: "button" }, { font: "11px sans-serif", padding: "1px 5px" });
      button.dataset.action = action;
      button.addEventListener("click", () => this.run(action));
      toolbar.append(button);
    }
    this.status = element("div", { className: "truepose-status" }, { minHeight: "14px", opacity: "0.8" });
    this.root.append(this.canvas, scrubber, toolbar, this.status);

    this.slider.addEventListener("input", () => { this.index = Number(this.slider.value); this.selected = null; this.draw(); });
    this.canvas.addEventListener("pointerdown", (e) => this.pointerDown(e));
    this.canvas.addEventListener("pointermove", (e) => this.pointerMove(e));
    this.canvas.addEventListener("pointerup", (e) => this.pointerUp(e));
    this.canvas.addEventListener("keydown", (e) => {
      const action = { h: "toggle", H: "toggle", Delete: "delete", Backspace: "delete" }[e.key];
      if (action) { e.preventDefault(); e.stopPropagation(); this.run(action); }
    });
    new ResizeObserver(() => this.draw()).observe(this.canvas);
  }

  get size() {
    return [widgetByName(this.node, "width")?.value ?? 512, widgetByName(this.node, "height")?.value ?? 768];
  }

  // The frames shown: the edit, else the incoming pose, else the default skeleton.
  currentFrames() {
    const text = (this.store.value ?? "").trim();
    if (text) {
      try { return normaliseFrames(text); } catch (e) { this.say(`pose_store is not a pose: ${e.message}`); }
    }
    return this.input ?? withCanvas(normaliseFrames(this.defaultPose), ...this.size);
  }

  refresh() {
    this.frames = this.currentFrames();
    this.index = Math.min(this.index, this.frames.length - 1);
    this.slider.max = String(this.frames.length - 1);
    this.slider.value = String(this.index);
    this.slider.disabled = this.frames.length < 2;
    this.draw();
  }

  commit(frames) {
    this.frames = frames;
    this.store.value = JSON.stringify(withCanvas(frames, ...this.size));
    this.store.callback?.(this.store.value);
    this.node.setDirtyCanvas?.(true, true);
    this.refresh();
  }

  draw() {
    const { canvas } = this;
    const w = Math.max(50, Math.round(canvas.clientWidth || 320));
    const h = Math.max(50, Math.round(canvas.clientHeight || 320));
    if (canvas.width !== w || canvas.height !== h) [canvas.width, canvas.height] = [w, h];
    this.view = fitView(w, h, ...this.size);
    const background = this.backgrounds.length ? this.backgrounds[this.index % this.backgrounds.length] : null;
    drawPose(canvas.getContext("2d"), this.frames?.[this.index], this.view, { background, selected: this.selected });
    this.frameLabel.textContent = `frame ${this.index + 1}/${this.frames?.length ?? 1}`;
    if (this.selected) {
      const pt = bodyPoints(this.frames[this.index].people[this.selected.person])[this.selected.k];
      this.say(`${KEYPOINT_NAMES[this.selected.k]}${pt.c > 0 ? "" : " (hidden)"}`);
    }
  }

  say(text) {
    this.status.textContent = text;
  }

  canvasPoint(e) {
    const rect = this.canvas.getBoundingClientRect();
    return [(e.clientX - rect.left) * (this.canvas.width / rect.width), (e.clientY - rect.top) * (this.canvas.height / rect.height)];
  }

  // Where joint k of a person is on screen (client pixels): for tests and tooling.
  screenPoint(k, person = 0) {
    const pt = bodyPoints(this.frames[this.index].people[person])[k];
    const [x, y] = toCanvas([pt.x, pt.y], this.view);
    const rect = this.canvas.getBoundingClientRect();
    return [rect.left + x * (rect.width / this.canvas.width), rect.top + y * (rect.height / this.canvas.height)];
  }

  pointerDown(e) {
    e.stopPropagation();
    this.canvas.focus();
    this.selected = hitTest(this.frames[this.index], this.view, this.canvasPoint(e), 12);
    this.dragging = Boolean(this.selected);
    if (this.dragging) this.canvas.setPointerCapture(e.pointerId);
    this.draw();
  }

  pointerMove(e) {
    if (!this.dragging) return;
    e.stopPropagation();
    const [nx, ny] = toPose(this.canvasPoint(e), this.view).map((v) => Math.min(1, Math.max(0, v)));
    this.frames[this.index] = movePoint(this.frames[this.index], this.selected.person, this.selected.k, [nx, ny]);
    this.draw();
  }

  pointerUp(e) {
    if (!this.dragging) return;
    e.stopPropagation();
    this.dragging = false;
    this.commit(this.frames);
  }

  editFrame(edit) {
    const frames = this.frames.slice();
    frames[this.index] = edit(frames[this.index]);
    this.commit(frames);
  }

  async run(action) {
    const s = this.selected;
    if ((action === "toggle" || action === "delete") && !s) return this.say("select a joint first");
    if (action === "toggle") {
      const visible = bodyPoints(this.frames[this.index].people[s.person])[s.k].c > 0;
      this.editFrame((f) => setVisible(f, s.person, s.k, !visible));
    } else if (action === "delete") {
      this.editFrame((f) => deletePoint(f, s.person, s.k));
      this.selected = null;
      this.say(`${KEYPOINT_NAMES[s.k]} deleted`);
    } else if (action === "flip") this.editFrame(flipFrame);
    else if (action === "smaller" || action === "bigger") this.editFrame((f) => scaleFrame(f, action === "bigger" ? 1.1 : 1 / 1.1));
    else if (action === "load-input") {
      if (!this.input) return this.say("no incoming pose yet: connect pose_keypoint and run the workflow");
      this.commit(this.input);
    } else if (action === "reset") {
      this.store.value = "";
      this.store.callback?.("");
      this.selected = null;
      this.refresh();
    } else if (action === "match") await this.matchSource();
  }

  async matchSource() {
    if (!this.reference) return this.say("connect reference_pose and run the workflow once");
    this.say("matching…");
    const body = JSON.stringify({ reference: this.reference, pose: withCanvas(this.frames, ...this.size), mode: "scale_translate" });
    const response = await this.api.fetchApi(MATCH_ROUTE, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    const answer = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
    if (!response.ok) return this.say(`match failed: ${answer.error}`);
    this.commit(normaliseFrames(answer.pose));
    this.say("matched the source proportions");
  }

  onExecuted(payload) {
    if (!payload) return;
    this.input = payload.input ? normaliseFrames(payload.input) : null;
    this.reference = payload.reference ?? null;
    this.backgrounds = (payload.backgrounds ?? []).map((ref) => {
      const img = new Image();
      img.onload = () => this.draw();
      img.src = viewURL(this.api, ref);
      return img;
    });
    this.refresh();
  }
}
