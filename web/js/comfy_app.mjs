// The ComfyUI frontend's `app` and `api`. Frontends >= 1.x expose them on window.comfyAPI (the
// stable way: KJNodes and others moved to it after relative imports broke); older frontends
// only have the scripts/*.js modules, relative to /extensions/<pack>/js/.
export async function comfyApp() {
  const app = globalThis.comfyAPI?.app?.app;
  if (app) return app;
  return (await import("../../../scripts/app.js")).app;
}

export async function comfyApi() {
  const api = globalThis.comfyAPI?.api?.api;
  if (api) return api;
  return (await import("../../../scripts/api.js")).api;
}

export function widgetByName(node, name) {
  return node.widgets?.find((w) => w.name === name);
}

// A widget the user never sees, still serialized into the workflow and the prompt.
export function hideWidget(widget) {
  widget.hidden = true;
  (widget.options ??= {}).hidden = true; // Nodes 2.0 renders every widget without options.hidden
  widget.computeSize = () => [0, -4]; // older frontends lay out by computeSize
}

// Wrap a prototype method: the original runs first, then `after` with its result.
export function chain(target, method, after) {
  const original = target[method];
  target[method] = function (...args) {
    const result = original?.apply(this, args);
    after.apply(this, args);
    return result;
  };
}

export function viewURL(api, ref) {
  const query = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder ?? "", type: ref.type ?? "temp" });
  const path = `/view?${query}`;
  return api?.apiURL ? api.apiURL(path) : `/api${path}`;
}
