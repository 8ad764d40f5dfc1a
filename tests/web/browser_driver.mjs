// Drives Debian's chromium (playwright-core) through one scenario against a running ComfyUI and
// prints one JSON line of facts for the pytest side (tests/web/test_browser_*.py) to assert on.
//   node tests/web/browser_driver.mjs <scenario> <server url> <screenshot dir or ""> [litegraph|vue]
// "vue" switches the frontend's Nodes 2.0 (Comfy.VueNodes.Enabled: DOM-rendered nodes) on.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const [scenarioName, serverURL, screenshotDir, mode = "litegraph"] = process.argv.slice(2);
const VUE = mode === "vue";
const SHIPPED = join(HERE, "..", "..", "workflows");
const PACK_FOLDER = "ComfyUI-TruePose"; // the pack's folder name in custom_nodes (scripts/comfy_host.py) // the pack's UI workflows; their API twins in api/
const workflow = (name) => JSON.parse(readFileSync(join(HERE, "workflows", `${name}.json`), "utf8"));
const shippedNames = () => readdirSync(SHIPPED).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();

async function openComfy() {
  const profile = mkdtempSync(join(tmpdir(), "truepose-chromium-"));
  const args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"];
  // a fresh --user-data-dir: launchPersistentContext passes `profile` as chromium's --user-data-dir
  const viewport = scenarioName === "shipped_workflows" ? { width: 1920, height: 1200 } : { width: 1280, height: 800 };
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args, viewport });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // errors from the pack's modules (the frontend's blocked calls to api.comfy.org are expected offline)
  page.on("console", (m) => { if (m.type() === "error" && /truepose/i.test(m.text()) && !/Content Security Policy/.test(m.text())) errors.push(m.text()); });
  // no first-run template browser or tutorial over the canvas
  // the server keeps settings between runs: every scenario states the renderer it wants
  await page.request.post(`${serverURL}/api/settings`, {
    data: {
      "Comfy.TutorialCompleted": true, "Comfy.Workflow.ShowMissingModelsWarning": false, "Comfy.VueNodes.Enabled": VUE,
      // whole-graph screenshots: full detail at any zoom, no minimap over the nodes
      "LiteGraph.Canvas.MinFontSizeForLOD": 0, "LiteGraph.Canvas.LowQualityRenderingZoomThreshold": 0,
      "Comfy.Minimap.Visible": false, "Comfy.Graph.CanvasInfo": false,
    },
  });
  // forget cached results, so every node of the scenario runs and sends its ui payload
  await page.request.post(`${serverURL}/api/free`, { data: { free_memory: true } });
  await page.goto(serverURL, { waitUntil: "domcontentloaded", timeout: 90_000 });
  await page.waitForFunction(() => {
    const app = window.comfyAPI?.app?.app;
    return app?.graph && app.canvas && window.LiteGraph?.registered_node_types?.TruePose_PoseEditor;
  }, null, { timeout: 90_000 });
  await page.waitForFunction(() => {
    const names = (window.comfyAPI.app.app.extensions ?? []).map((e) => e.name);
    return ["TruePose.PoseEditor", "TruePose.ParsingPreview", "TruePose.RegionColors"].every((n) => names.includes(n));
  }, null, { timeout: 60_000 });
  const close = async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); };
  return { page, errors, close };
}

// Load an API-format workflow the way a user drops one in, queue it, wait for the run to end.
async function loadAndRun(page, prompt) {
  await page.evaluate(async (prompt) => {
    const app = window.comfyAPI.app.app;
    await app.loadApiJson(prompt, "truepose-test.json");
    app.canvas.ds.scale = 1;
  }, prompt);
  return run(page);
}

async function run(page) {
  return page.evaluate(async () => {
    const { app } = window.comfyAPI.app;
    const { api } = window.comfyAPI.api;
    const finished = new Promise((resolve) => {
      const ok = (e) => resolve({ ok: true, prompt_id: e.detail.prompt_id });
      const bad = (e) => resolve({ ok: false, error: e.detail });
      api.addEventListener("execution_success", ok, { once: true });
      api.addEventListener("execution_error", bad, { once: true });
    });
    await app.queuePrompt(0, 1);
    return finished;
  });
}

// The on-screen box (client pixels) around some nodes, for a small screenshot.
async function nodesBox(page, ids, margin = 16) {
  return page.evaluate(([ids, margin]) => {
    const { app } = window.comfyAPI.app;
    const rect = app.canvas.canvas.getBoundingClientRect();
    const { scale, offset } = app.canvas.ds;
    const title = window.LiteGraph.NODE_TITLE_HEIGHT;
    const boxes = ids.map((id) => app.graph.getNodeById(id)).map((n) => [n.pos[0], n.pos[1] - title, n.pos[0] + n.size[0], n.pos[1] + n.size[1]]);
    const [x0, y0] = [Math.min(...boxes.map((b) => b[0])), Math.min(...boxes.map((b) => b[1]))];
    const [x1, y1] = [Math.max(...boxes.map((b) => b[2])), Math.max(...boxes.map((b) => b[3]))];
    const sx = (x) => rect.left + (x + offset[0]) * scale;
    const sy = (y) => rect.top + (y + offset[1]) * scale;
    const left = Math.max(0, sx(x0) - margin);
    const top = Math.max(0, sy(y0) - margin);
    return { x: left, y: top, width: Math.min(rect.width - left, sx(x1) - sx(x0) + 2 * margin), height: Math.min(rect.height - top, sy(y1) - sy(y0) + 2 * margin) };
  }, [ids, margin]);
}

// Put node `id` at the top-left of the view (graph units), everything at scale 1.
async function focusNodes(page, id, [x, y] = [300, 150]) {
  await page.evaluate(([id, x, y]) => {
    const { app } = window.comfyAPI.app;
    const node = app.graph.getNodeById(id);
    app.canvas.ds.scale = 1;
    app.canvas.ds.offset = [x - node.pos[0], y - node.pos[1]];
    app.canvas.setDirty(true, true);
    app.canvas.draw(true, true);
  }, [id, x, y]);
  await page.waitForTimeout(200); // DOM widgets follow the canvas on the next frame
}

async function shoot(page, name, ids) {
  if (!screenshotDir) return null;
  const path = join(screenshotDir, VUE && !name.includes("nodes2") ? name.replace(/\.png$/, "_nodes2.png") : name);
  await page.screenshot({ path, clip: await nodesBox(page, ids) });
  return path;
}

// Drop a workflow file on the canvas, as a user drags one in from the file manager.
async function dropWorkflow(page, name, text) {
  await page.evaluate(async ([name, text]) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([text], `${name}.json`, { type: "application/json" }));
    const canvas = window.comfyAPI.app.app.canvas.canvas;
    canvas.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, [name, text]);
  const expected = JSON.parse(text).nodes.length;
  await page.waitForFunction((n) => window.comfyAPI.app.app.graph.nodes.length === n, expected, { timeout: 30_000 });
  // settled: every LoadImage shows its picture, the DOM widgets have had two frames to follow
  await page.waitForFunction(() => window.comfyAPI.app.app.graph.nodes.filter((n) => n.type === "LoadImage").every((n) => n.imgs?.[0]?.complete),
    null, { timeout: 30_000 });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.waitForTimeout(VUE ? 800 : 300);
}

// Every node's box in graph units, title bar included: LiteGraph's own bounding rect, or with
// Nodes 2.0 the rendered DOM element (what the user sees), mapped back through the canvas transform.
async function nodeBoxes(page) {
  return page.evaluate((vue) => {
    const { app } = window.comfyAPI.app;
    const { scale, offset } = app.canvas.ds;
    const rect = app.canvas.canvas.getBoundingClientRect();
    return app.graph.nodes.map((n) => {
      let box = [...n.boundingRect];
      if (vue) {
        const el = document.querySelector(`[data-node-id="${n.id}"]`);
        if (!el) return { id: n.id, type: n.type, box: null };
        const r = el.getBoundingClientRect();
        box = [(r.left - rect.left) / scale - offset[0], (r.top - rect.top) / scale - offset[1], r.width / scale, r.height / scale];
      }
      return { id: n.id, type: n.type, title: n.title, box: box.map((v) => Math.round(v * 10) / 10) };
    });
  }, VUE);
}

// Fit the whole graph into the view, for a screenshot of the workflow.
async function fitGraph(page, margin = 40) {
  return page.evaluate((margin) => {
    const { app } = window.comfyAPI.app;
    const boxes = app.graph.nodes.map((n) => n.boundingRect);
    const [x0, y0] = [Math.min(...boxes.map((b) => b[0])), Math.min(...boxes.map((b) => b[1]))];
    const [x1, y1] = [Math.max(...boxes.map((b) => b[0] + b[2])), Math.max(...boxes.map((b) => b[1] + b[3]))];
    const rect = app.canvas.canvas.getBoundingClientRect();
    const scale = Math.min((rect.width - 2 * margin) / (x1 - x0), (rect.height - 2 * margin) / (y1 - y0), 1);
    app.canvas.ds.scale = scale;
    app.canvas.ds.offset = [margin / scale - x0, margin / scale - y0];
    app.canvas.setDirty(true, true);
    app.canvas.draw(true, true);
    const [w, h] = [(x1 - x0) * scale + 2 * margin, (y1 - y0) * scale + 2 * margin];
    return { x: rect.left, y: rect.top, width: Math.min(w, rect.width), height: Math.min(h, rect.height) };
  }, margin);
}

// Nodes 2.0: the node is DOM; the stripe is the widget row's left border. Where each stripe is on
// screen (client pixels) plus a screenshot of the page, for the test to read the real pixels.
async function regionColorsNodes2(page) {
  const id = await page.evaluate(() => {
    const { app } = window.comfyAPI.app;
    app.graph.clear();
    const node = window.LiteGraph.createNode("TruePose_Apply");
    node.pos = [60, 160]; // below the workflow menu
    app.graph.add(node);
    app.canvas.ds.scale = 1;
    app.canvas.ds.offset = [0, 0];
    app.canvas.setDirty(true, true);
    return node.id;
  });
  await page.waitForFunction((id) => document.querySelectorAll(`[data-node-id="${id}"] .lg-node-widget[data-truepose-colour]`).length >= 7, id, { timeout: 30_000 });
  await page.waitForTimeout(300);
  const widgets = await page.evaluate((id) => {
    const out = {};
    for (const row of document.querySelectorAll(`[data-node-id="${id}"] .lg-node-widget`)) {
      const name = row.querySelector("p")?.textContent?.trim();
      const r = row.getBoundingClientRect();
      out[name] = { colour: row.dataset.trueposeColour ?? null, point: [Math.round(r.left + 3), Math.round(r.top + r.height / 2)] };
    }
    return out;
  }, id);
  const pageShot = join(mkdtempSync(join(tmpdir(), "truepose-page-")), "page.png"); // pixels to read, not a picture to keep
  await page.screenshot({ path: pageShot });
  const shot = await shoot(page, "region_colors_nodes2.png", [id]);
  return { widgets, pageScreenshot: pageShot, screenshot: shot };
}

const scenarios = {
  // Every shipped UI workflow, dropped in as a user would: the node boxes, the prompt the frontend
  // would queue (app.graphToPrompt) and a screenshot of the whole graph.
  async shipped_workflows(page) {
    const results = {};
    if (screenshotDir) await page.evaluate(() => window.comfyAPI.app.app.extensionManager.command.execute("Workspace.ToggleFocusMode"));
    for (const name of shippedNames()) {
      await dropWorkflow(page, name, readFileSync(join(SHIPPED, `${name}.json`), "utf8"));
      const boxes = await nodeBoxes(page);
      const prompt = await page.evaluate(async () => (await window.comfyAPI.app.app.graphToPrompt()).output);
      let screenshot = null;
      if (screenshotDir) {
        const clip = await fitGraph(page);
        await page.waitForTimeout(VUE ? 800 : 300);
        screenshot = join(screenshotDir, `${name}${VUE ? "_nodes2" : ""}.png`);
        await page.screenshot({ path: screenshot, clip });
      }
      results[name] = { boxes, prompt, screenshot };
    }
    return { mode, workflows: results };
  },

  // The Templates browser, opened on this pack's category: which thumbnails it asked for and got.
  async templates(page) {
    const asked = [];
    page.on("response", (r) => { if (r.url().includes("/workflow_templates/")) asked.push({ url: r.url(), status: r.status(), type: r.headers()["content-type"] ?? "" }); });
    await page.evaluate(() => window.comfyAPI.app.app.extensionManager.command.execute("Comfy.BrowseTemplates"));
    const category = page.getByText(PACK_FOLDER, { exact: true }).first();
    await category.waitFor({ timeout: 30_000 });
    await category.click();
    const thumbnails = (list) => list.filter((r) => r.url.includes(`/workflow_templates/${PACK_FOLDER}/`) && r.url.endsWith(".jpg"));
    const expected = shippedNames().length;
    for (let t = 0; t < 60 && thumbnails(asked).length < expected; t++) await page.waitForTimeout(500);
    await page.waitForTimeout(1000);
    const screenshot = screenshotDir ? join(screenshotDir, "templates.png") : null;
    if (screenshot) await page.screenshot({ path: screenshot });
    return { asked: thumbnails(asked), screenshot };
  },

  // The frontend's own sizes for the nodes of every API twin (fresh nodes, nothing saved): what
  // scripts/build_workflows.py lays the UI files out with (scripts/measure_node_sizes.py).
  async measure_nodes(page) {
    const sizes = {};
    for (const name of shippedNames()) {
      const prompt = JSON.parse(readFileSync(join(SHIPPED, "api", `${name}.json`), "utf8"));
      await page.evaluate(async (prompt) => { await window.comfyAPI.app.app.loadApiJson(prompt, "measure.json"); }, prompt);
      await page.waitForFunction(() => window.comfyAPI.app.app.graph.nodes.filter((n) => n.type === "LoadImage").every((n) => n.imgs?.[0]?.complete),
        null, { timeout: 30_000 });
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      await page.waitForTimeout(VUE ? 800 : 300);
      sizes[name] = Object.fromEntries((await nodeBoxes(page)).map((n) => [n.id, n.box && [n.box[2], n.box[3]]]));
    }
    return { mode, sizes };
  },


  async parsing_preview(page) {
    const run1 = await loadAndRun(page, workflow("parsing_preview"));
    await page.waitForSelector(".truepose-parsing-preview[data-ready=true]", { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelectorAll(".truepose-parsing-preview[data-ready=true]").length === 2, null, { timeout: 30_000 });
    const legends = await page.$$eval(".truepose-parsing-preview", (roots) =>
      roots.map((r) => [...r.querySelectorAll(".truepose-legend-item")].map((i) => i.dataset.label)));
    await page.evaluate(() => { // the human-parse node and its output side by side, the rest out of the way
      const { app } = window.comfyAPI.app;
      const [parse, preview] = [app.graph.getNodeById(3), app.graph.getNodeById(4)];
      preview.pos = [parse.pos[0] + parse.size[0] + 30, parse.pos[1]];
      for (const id of [5, 6, 7, 8]) app.graph.getNodeById(id).pos[1] += 2000;
    });
    await focusNodes(page, 3);
    // hover: find a non-background pixel of the human-parse preview, move the real mouse there
    const target = await page.evaluate(() => {
      const preview = window.comfyAPI.app.app.graph.getNodeById(3).truePoseParsingPreview;
      const rect = preview.canvas.getBoundingClientRect();
      for (let y = rect.top + rect.height * 0.3; y < rect.bottom; y += 4)
        for (let x = rect.left; x < rect.right; x += 4) {
          const label = preview.labelAt(x, y);
          if (label && label.name !== "Background") return { x, y, name: label.name };
        }
      return null;
    });
    if (target) await page.mouse.move(target.x, target.y);
    const hover = await page.$eval(".truepose-parsing-preview .truepose-hover", (el) => el.textContent).catch(() => null);
    const opacity = await page.evaluate(() => {
      const preview = window.comfyAPI.app.app.graph.getNodeById(3).truePoseParsingPreview;
      const pixel = () => {
        const { x, y, w, h } = preview.view;
        return [...preview.canvas.getContext("2d").getImageData(Math.round(x + w / 2), Math.round(y + h / 2), 1, 1).data.slice(0, 3)];
      };
      const at = (value) => { preview.opacity.value = String(value); preview.opacity.dispatchEvent(new Event("input")); return pixel(); };
      return { zero: at(0), full: at(100), half: at(60) };
    });
    const shot = await shoot(page, "parsing_preview.png", [3, 4]);
    return { run: run1, legends, hover, hoverExpected: target?.name ?? null, opacity, screenshot: shot };
  },

  async pose_editor(page) {
    const first = await loadAndRun(page, workflow("pose_editor"));
    await page.waitForFunction(() => window.comfyAPI.app.app.graph.getNodeById(4).truePoseEditor.input, null, { timeout: 30_000 });
    await focusNodes(page, 4);
    const editor = await page.evaluateHandle(() => window.comfyAPI.app.app.graph.getNodeById(4).truePoseEditor);
    const before = await editor.evaluate((e) => ({ frames: e.frames.length, store: e.store.value, sliderMax: Number(e.slider.max) }));
    // the hidden pose_store widget: drawn nowhere (classic: no height; Nodes 2.0: no row in the DOM)
    const storeShown = await page.evaluate((vue) => {
      const node = window.comfyAPI.app.app.graph.getNodeById(4);
      if (!vue) return node.widgets.find((w) => w.name === "pose_store").computeSize()[1] > 0;
      return [...document.querySelectorAll('[data-node-id="4"] .lg-node-widget p')].some((p) => p.textContent.trim() === "pose_store");
    }, VUE);
    // scrub to frame 2, retarget onto the source's build through the local route
    await page.locator(".truepose-pose-editor input.truepose-frame").fill("1");
    await page.click(".truepose-pose-editor button[data-action=match]");
    await page.waitForFunction(() => /matched|failed/.test(window.comfyAPI.app.app.graph.getNodeById(4).truePoseEditor.status.textContent));
    const matchStatus = await editor.evaluate((e) => e.status.textContent);
    // drag the right wrist (joint 4) with the real mouse
    const [x, y] = await editor.evaluate((e) => e.screenPoint(4));
    await page.mouse.move(x, y);
    await page.mouse.down();
    for (let i = 1; i <= 5; i++) await page.mouse.move(x + 6 * i, y + 4 * i);
    await page.mouse.up();
    const dragged = await editor.evaluate((e, [cx, cy]) => {
      const rect = e.canvas.getBoundingClientRect();
      const canvasXY = [(cx - rect.left) * (e.canvas.width / rect.width), (cy - rect.top) * (e.canvas.height / rect.height)];
      return { expected: [(canvasXY[0] - e.view.x) / e.view.w, (canvasXY[1] - e.view.y) / e.view.h], frame: e.index };
    }, [x + 30, y + 20]);
    // select the left wrist (7) and hide it with the button
    const [hx, hy] = await editor.evaluate((e) => e.screenPoint(7));
    await page.mouse.click(hx, hy);
    await page.click(".truepose-pose-editor button[data-action=toggle]");
    const store = await editor.evaluate((e) => e.store.value);
    const promptStore = await page.evaluate(async () => (await window.comfyAPI.app.app.graphToPrompt()).output["4"].inputs.pose_store);
    const second = await run(page);
    await editor.evaluate((e) => { e.selected = null; e.say(""); e.draw(); });
    const shot = await shoot(page, "pose_editor.png", [4]);
    return { first, second, before, storeShown, matchStatus, dragged, store, promptStore, screenshot: shot };
  },

  async region_colors(page) {
    if (VUE) return regionColorsNodes2(page);
    const result = await page.evaluate(async () => {
      const { app } = window.comfyAPI.app;
      app.graph.clear();
      const node = window.LiteGraph.createNode("TruePose_Apply");
      node.pos = [60, 60];
      app.graph.add(node);
      app.canvas.ds.scale = 1;
      app.canvas.ds.offset = [0, 0];
      app.canvas.setDirty(true, true);
      app.canvas.draw(true, true);
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      app.canvas.draw(true, true);
      const ctx = app.canvas.canvas.getContext("2d");
      const dpr = app.canvas.canvas.width / app.canvas.canvas.getBoundingClientRect().width;
      const height = window.LiteGraph.NODE_WIDGET_HEIGHT;
      const out = {};
      for (const name of ["face", "hair", "upper", "lower", "skin", "shoes", "background", "fusion"]) {
        const w = node.widgets.find((x) => x.name === name);
        if (!w) { out[name] = null; continue; }
        const y = w.last_y ?? w.y;
        const px = Math.round((node.pos[0] + 7) * dpr);
        const py = Math.round((node.pos[1] + y + height / 2) * dpr);
        out[name] = { colour: w.trueposeColour ?? null, pixel: [...ctx.getImageData(px, py, 1, 1).data.slice(0, 3)] };
      }
      return { id: node.id, widgets: out };
    });
    const shot = await shoot(page, "region_colors.png", [result.id]);
    return { widgets: result.widgets, screenshot: shot };
  },
};

const { page, errors, close } = await openComfy();
try {
  const facts = await scenarios[scenarioName](page);
  console.log(JSON.stringify({ ...facts, errors }));
} catch (e) {
  console.log(JSON.stringify({ failure: String(e?.stack ?? e), errors }));
  process.exitCode = 1;
} finally {
  await close();
}
