// node --test tests/web/ : the editor's pure helpers (pose <-> canvas, normalised <-> pixels, edits).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  KEYPOINT_NAMES, LIMBS, MIRROR, bodyPoints, deletePoint, fitView, flipFrame, hitTest, isNormalised, movePoint,
  normaliseFrames, scaleFrame, setVisible, toCanvas, toNormalised, toPixels, toPose, withCanvas,
} from "../../web/js/pose_math.mjs";

const body = (points) => points.flatMap(([x, y, c = 1]) => [x, y, c]);
const frame = (points, w = 512, h = 768) => ({ people: [{ pose_keypoints_2d: body(points) }], canvas_width: w, canvas_height: h });
const standing = Array.from({ length: 18 }, (_, k) => [(30 + 2 * k) / 100, (10 + 4 * k) / 100]);
const close = (a, b, eps = 1e-6) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test("skeleton tables: 18 COCO-18 names, 17 limbs, mirror is an involution", () => {
  assert.equal(KEYPOINT_NAMES.length, 18);
  assert.equal(LIMBS.length, 17);
  MIRROR.forEach((m, k) => assert.equal(MIRROR[m], k));
  assert.equal(KEYPOINT_NAMES[MIRROR[2]], "left_shoulder");
});

test("fitView letterboxes the pose canvas, centred, aspect kept", () => {
  const view = fitView(400, 400, 512, 768, 8);
  close(view.h, 384);
  close(view.w, 256);
  close(view.x, 72);
  close(view.y, 8);
});

test("toCanvas and toPose are inverse", () => {
  const view = fitView(333, 221, 640, 480);
  for (const p of [[0, 0], [1, 1], [0.25, 0.8]]) {
    const back = toPose(toCanvas(p, view), view);
    close(back[0], p[0]);
    close(back[1], p[1]);
  }
  assert.deepEqual(toCanvas([0.5, 0.5], { x: 10, y: 20, w: 100, h: 200 }), [60, 120]);
});

test("normalised <-> pixel coordinates use the frame's canvas", () => {
  const f = frame(standing, 640, 480);
  assert.deepEqual(toPixels([0.5, 0.25], f), [320, 120]);
  assert.deepEqual(toNormalised([320, 120], f), [0.5, 0.25]);
});

test("pixel POSE_KEYPOINT (DWPose) is normalised; normalised input is kept; hidden points keep c = 0", () => {
  const pixels = frame([[256, 384], [100, 700, 0], [0, 0, 0]], 512, 768);
  assert.equal(isNormalised([pixels]), false);
  const [n] = normaliseFrames(JSON.stringify([pixels]));
  assert.deepEqual(n.people[0].pose_keypoints_2d.slice(0, 9), [0.5, 0.5, 1, 100 / 512, 700 / 768, 0, 0, 0, 0]);
  const already = [frame(standing)];
  assert.deepEqual(normaliseFrames(already), already);
  assert.notEqual(normaliseFrames(already)[0], already[0], "a copy, never the caller's object");
  assert.throws(() => normaliseFrames({ nope: 1 }), /OpenPose frames/);
});

test("each part is pixel or normalised on its own, as the Python reader decides", () => {
  const f = frame(standing, 512, 768);
  f.people[0].hand_left_keypoints_2d = body(Array.from({ length: 21 }, (_, k) => [100 + k, 200 + k]));  // pixels
  const [n] = normaliseFrames([f]);
  close(n.people[0].hand_left_keypoints_2d[0], 100 / 512);
  assert.deepEqual(n.people[0].pose_keypoints_2d, f.people[0].pose_keypoints_2d);  // the normalised body is kept
  const nearEdge = frame(standing.map(([x, y], k) => [k === 4 ? 1.03 : x, y]), 512, 768);  // a wrist just past the edge
  assert.equal(isNormalised([nearEdge]), true);
  assert.equal(isNormalised([frame(standing.map(([x, y], k) => [k === 4 ? 1.03 : x, y]), 32, 32)]), false);
  assert.throws(() => normaliseFrames([{ people: [{ pose_keypoints_2d: body([[100, 200]]) }] }]), /canvas_width/);
});

test("hitTest finds the nearest joint within the radius, ignores deleted ones", () => {
  const view = { x: 0, y: 0, w: 100, h: 100 };
  const f = frame([[0.1, 0.1], [0.5, 0.5], [0, 0, 0]]);
  assert.deepEqual(hitTest(f, view, [52, 49], 5), { person: 0, k: 1 });
  assert.equal(hitTest(f, view, [30, 30], 5), null);
  assert.equal(hitTest(f, view, [0, 0], 5), null);
});

test("movePoint writes a visible normalised point and leaves the input alone", () => {
  const f = frame(standing);
  const moved = movePoint(f, 0, 4, [0.123, 0.456]);
  assert.deepEqual(bodyPoints(moved.people[0])[4], { x: 0.123, y: 0.456, c: 1 });
  assert.deepEqual(f, frame(standing));
});

test("hide keeps the position, show restores it; delete writes 0,0,0; showing a deleted point centres it", () => {
  const hidden = setVisible(frame(standing), 0, 3, false);
  assert.deepEqual(bodyPoints(hidden.people[0])[3], { x: standing[3][0], y: standing[3][1], c: 0 });
  assert.equal(bodyPoints(setVisible(hidden, 0, 3, true).people[0])[3].c, 1);
  const deleted = deletePoint(frame(standing), 0, 3);
  assert.deepEqual(bodyPoints(deleted.people[0])[3], { x: 0, y: 0, c: 0 });
  const shown = bodyPoints(setVisible(deleted, 0, 3, true).people[0])[3];
  assert.ok(shown.c === 1 && shown.x > 0.3 && shown.y > 0.1);
});

test("flip mirrors x and swaps the person's left and right", () => {
  const f = frame(standing);
  const flipped = bodyPoints(flipFrame(f).people[0]);
  const original = bodyPoints(f.people[0]);
  close(flipped[5].x, 1 - original[2].x); // new left shoulder = mirrored old right shoulder
  close(flipped[5].y, original[2].y);
  close(flipped[0].x, 1 - original[0].x);
  const again = flipFrame(flipFrame(f)).people[0].pose_keypoints_2d;
  f.people[0].pose_keypoints_2d.forEach((v, i) => close(again[i], v));
});

test("flip keeps deleted points deleted and swaps hands", () => {
  const f = frame([[0.2, 0.2], [0, 0, 0]]);
  f.people[0].hand_left_keypoints_2d = [0.1, 0.1, 1];
  f.people[0].hand_right_keypoints_2d = null;
  const out = flipFrame(f).people[0];
  assert.deepEqual(out.pose_keypoints_2d.slice(3, 6), [0, 0, 0]);
  assert.equal(out.hand_left_keypoints_2d, null);
  assert.deepEqual(out.hand_right_keypoints_2d, [0.9, 0.1, 1]);
});

test("scale grows about the body centre", () => {
  const f = frame([[0.4, 0.5], [0.6, 0.5]]);
  const pts = bodyPoints(scaleFrame(f, 2).people[0]);
  close(pts[0].x, 0.3);
  close(pts[1].x, 0.7);
  close(pts[0].y, 0.5);
});

test("withCanvas sets the canvas size of every frame", () => {
  const out = withCanvas([frame(standing), frame(standing)], 640, 480);
  assert.deepEqual(out.map((f) => [f.canvas_width, f.canvas_height]), [[640, 480], [640, 480]]);
});
