// Draws one pose frame into a 2D canvas context inside `view` (see pose_math.fitView), in the
// OpenPose look: limbs at 60 % colour, joints in full colour; hidden joints as hollow rings.
import { COLOURS, LIMBS, bodyPoints, isDeleted, toCanvas } from "./pose_math.mjs";

const rgb = ([r, g, b], f = 1) => `rgb(${Math.round(r * f)}, ${Math.round(g * f)}, ${Math.round(b * f)})`;

export function drawPose(ctx, frame, view, { background = null, selected = null } = {}) {
  ctx.save();
  ctx.fillStyle = "#111";
  ctx.fillRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  ctx.fillStyle = "#000";
  ctx.fillRect(view.x, view.y, view.w, view.h);
  if (background?.complete && background.naturalWidth) {
    ctx.globalAlpha = 0.6;
    ctx.drawImage(background, view.x, view.y, view.w, view.h);
    ctx.globalAlpha = 1;
  }
  ctx.strokeStyle = "#555";
  ctx.strokeRect(view.x + 0.5, view.y + 0.5, view.w - 1, view.h - 1);
  const stick = Math.max(2, view.w / 100);
  frame?.people.forEach((person, p) => {
    const pts = bodyPoints(person);
    LIMBS.forEach(([a, b], i) => {
      if (pts[a].c <= 0 || pts[b].c <= 0) return;
      ctx.strokeStyle = rgb(COLOURS[i], 0.6);
      ctx.lineWidth = stick;
      ctx.lineCap = "round";
      ctx.beginPath();
      ctx.moveTo(...toCanvas([pts[a].x, pts[a].y], view));
      ctx.lineTo(...toCanvas([pts[b].x, pts[b].y], view));
      ctx.stroke();
    });
    pts.forEach((pt, k) => {
      if (isDeleted(pt)) return;
      const [x, y] = toCanvas([pt.x, pt.y], view);
      ctx.beginPath();
      ctx.arc(x, y, stick * 1.2, 0, 2 * Math.PI);
      if (pt.c > 0) {
        ctx.fillStyle = rgb(COLOURS[k]);
        ctx.fill();
      } else {
        ctx.strokeStyle = rgb(COLOURS[k]);
        ctx.lineWidth = 1.5;
        ctx.stroke();
      }
      if (selected && selected.person === p && selected.k === k) {
        ctx.beginPath();
        ctx.arc(x, y, stick * 2.4, 0, 2 * Math.PI);
        ctx.strokeStyle = "#fff";
        ctx.lineWidth = 2;
        ctx.stroke();
      }
    });
  });
  ctx.restore();
}
