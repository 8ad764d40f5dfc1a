// POSE_KEYPOINT frames <-> the editor canvas, and the edits. Pure functions on plain JSON
// (OpenPose frames: {people: [{pose_keypoints_2d: [x, y, c, ...]}], canvas_width, canvas_height}),
// unit-tested with `node --test tests/web/`. A point with c > 0 is visible; c = 0 with x, y kept
// is hidden (the editor can show it again); 0, 0, 0 is deleted (missing).

// The COCO-18 tables come from the Python side (scripts/write_pose_tables.py writes pose_tables.mjs).
import { COLOURS, KEYPOINT_NAMES, LIMBS, MIRROR } from "./pose_tables.mjs";

export { COLOURS, KEYPOINT_NAMES, LIMBS, MIRROR };
const PART_KEYS = ["pose_keypoints_2d", "face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d"];

const clone = (value) => JSON.parse(JSON.stringify(value));

export function parseFrames(data) {
  const value = typeof data === "string" ? JSON.parse(data) : data;
  const frames = Array.isArray(value) ? value : [value];
  if (!frames.length || !frames.every((f) => f && typeof f === "object" && Array.isArray(f.people))) {
    throw new Error("expected OpenPose frames: [{people: [...], canvas_width, canvas_height}]");
  }
  return frames;
}

// Pixel vs normalised per part (body, each hand, face), as the Python reader decides it
// (truepose_core/pose/reader.py): normalised when every present |x|, |y| <= 1, or <= 2 on a
// canvas of 64 px or more.
function partIsNormalised(flat, frame) {
  let extent = 0;
  let present = false;
  for (let i = 0; i + 2 < flat.length; i += 3) {
    const [x, y, c] = [flat[i], flat[i + 1], flat[i + 2]];
    if (!(c > 0) || !Number.isFinite(x) || !Number.isFinite(y)) continue;
    present = true;
    extent = Math.max(extent, Math.abs(x), Math.abs(y));
  }
  if (!present) return true;
  return extent <= 1 || (extent <= 2 && Math.min(frame.canvas_width || 0, frame.canvas_height || 0) >= 64);
}

export function isNormalised(frames) {
  return frames.every((frame) => frame.people.every((person) => PART_KEYS.every((key) => partIsNormalised(person[key] ?? [], frame))));
}

// Any POSE_KEYPOINT (pixel or normalised, per part) -> a deep copy in normalised coordinates.
export function normaliseFrames(data) {
  const frames = clone(parseFrames(data));
  for (const frame of frames)
    for (const person of frame.people)
      for (const key of PART_KEYS) {
        const flat = person[key];
        if (!flat || partIsNormalised(flat, frame)) continue;
        if (!(frame.canvas_width > 0 && frame.canvas_height > 0)) throw new Error("pixel coordinates need the frame's canvas_width and canvas_height");
        for (let i = 0; i + 2 < flat.length; i += 3) {
          flat[i] /= frame.canvas_width;
          flat[i + 1] /= frame.canvas_height;
        }
      }
  return frames;
}

export function withCanvas(frames, width, height) {
  return frames.map((f) => ({ ...f, canvas_width: width, canvas_height: height }));
}

// The rectangle (canvas pixels) the pose canvas is drawn in: centred, aspect kept, inside a margin.
export function fitView(boxWidth, boxHeight, poseWidth, poseHeight, margin = 8) {
  const scale = Math.min((boxWidth - 2 * margin) / poseWidth, (boxHeight - 2 * margin) / poseHeight);
  const w = poseWidth * scale;
  const h = poseHeight * scale;
  return { x: (boxWidth - w) / 2, y: (boxHeight - h) / 2, w, h };
}

export const toCanvas = ([nx, ny], view) => [view.x + nx * view.w, view.y + ny * view.h];
export const toPose = ([cx, cy], view) => [(cx - view.x) / view.w, (cy - view.y) / view.h];

// Normalised -> pixel coordinates of the pose canvas and back (what the server writes and reads).
export const toPixels = ([nx, ny], frame) => [nx * frame.canvas_width, ny * frame.canvas_height];
export const toNormalised = ([px, py], frame) => [px / frame.canvas_width, py / frame.canvas_height];

export function bodyPoints(person) {
  const flat = person.pose_keypoints_2d ?? [];
  return KEYPOINT_NAMES.map((_, k) => ({ x: flat[3 * k] ?? 0, y: flat[3 * k + 1] ?? 0, c: flat[3 * k + 2] ?? 0 }));
}

export const isDeleted = (p) => p.x === 0 && p.y === 0 && p.c === 0;

// The nearest non-deleted body point within `radius` canvas pixels: {person, k} or null.
export function hitTest(frame, view, [cx, cy], radius = 10) {
  let best = null;
  frame.people.forEach((person, p) => {
    bodyPoints(person).forEach((pt, k) => {
      if (isDeleted(pt)) return;
      const [x, y] = toCanvas([pt.x, pt.y], view);
      const d = Math.hypot(x - cx, y - cy);
      if (d <= radius && (!best || d < best.d)) best = { person: p, k, d };
    });
  });
  return best && { person: best.person, k: best.k };
}

function editBody(frame, p, edit) {
  const out = clone(frame);
  const person = out.people[p];
  person.pose_keypoints_2d = person.pose_keypoints_2d ?? new Array(54).fill(0);
  edit(person.pose_keypoints_2d, person);
  return out;
}

const round6 = (v) => Math.round(v * 1e6) / 1e6;

export function movePoint(frame, p, k, [nx, ny]) {
  return editBody(frame, p, (flat) => flat.splice(3 * k, 3, round6(nx), round6(ny), 1));
}

function centroid(flat) {
  const pts = [];
  for (let i = 0; i + 2 < flat.length; i += 3) if (flat[i + 2] > 0) pts.push([flat[i], flat[i + 1]]);
  if (!pts.length) return [0.5, 0.5];
  return [pts.reduce((s, q) => s + q[0], 0) / pts.length, pts.reduce((s, q) => s + q[1], 0) / pts.length];
}

// Hide keeps the position (c = 0); showing a deleted point puts it at the body's centre.
export function setVisible(frame, p, k, visible) {
  return editBody(frame, p, (flat) => {
    if (visible && flat[3 * k] === 0 && flat[3 * k + 1] === 0) [flat[3 * k], flat[3 * k + 1]] = centroid(flat).map(round6);
    flat[3 * k + 2] = visible ? 1 : 0;
  });
}

export function deletePoint(frame, p, k) {
  return editBody(frame, p, (flat) => flat.splice(3 * k, 3, 0, 0, 0));
}

function mapParts(frame, fn) {
  const out = clone(frame);
  out.people.forEach((person, p) => {
    for (const key of PART_KEYS) {
      const flat = person[key];
      if (!flat) continue;
      for (let i = 0; i + 2 < flat.length; i += 3) {
        if (flat[i] === 0 && flat[i + 1] === 0 && flat[i + 2] === 0) continue; // deleted stays deleted
        [flat[i], flat[i + 1]] = fn([flat[i], flat[i + 1]], p).map(round6);
      }
    }
  });
  return out;
}

// Mirror left-right: x -> 1 - x, and the person's left and right joints (and hands) swap.
export function flipFrame(frame) {
  const out = mapParts(frame, ([x, y]) => [1 - x, y]);
  for (const person of out.people) {
    const flat = person.pose_keypoints_2d;
    if (flat) {
      const padded = flat.concat(new Array(Math.max(0, 3 * MIRROR.length - flat.length)).fill(0));
      person.pose_keypoints_2d = MIRROR.flatMap((src) => padded.slice(3 * src, 3 * src + 3));
    }
    if ("hand_left_keypoints_2d" in person || "hand_right_keypoints_2d" in person)
      [person.hand_left_keypoints_2d, person.hand_right_keypoints_2d] = [person.hand_right_keypoints_2d ?? null, person.hand_left_keypoints_2d ?? null];
  }
  return out;
}

// Scale every part of every person about their own body centre.
export function scaleFrame(frame, factor) {
  const centres = frame.people.map((person) => centroid(person.pose_keypoints_2d ?? []));
  return mapParts(frame, ([x, y], p) => {
    const [cx, cy] = centres[p];
    return [cx + (x - cx) * factor, cy + (y - cy) * factor];
  });
}
