// The goals' prerequisite graph as inline SVG: skills in layers by their longest chain of
// prerequisites (left to right), coloured by mastery level, the path still to learn outlined,
// the goals in bold and the next item's skill in orange.
import { pct, s } from "../js/dom.js";

const W = 168; // node box
const H = 38;
const GAP_X = 56;
const GAP_Y = 14;

/** layer[key] = length of the longest prerequisite chain below the skill. */
function layers(nodes, edges) {
  const preds = new Map(nodes.map((n) => [n.key, []]));
  for (const e of edges) if (preds.has(e.target.key) && preds.has(e.source.key)) preds.get(e.target.key).push(e.source.key);
  const layer = new Map();
  const visiting = new Set();
  const depth = (k) => {
    if (layer.has(k)) return layer.get(k);
    if (visiting.has(k)) return 0; // a cycle cannot be stored, but never loop
    visiting.add(k);
    const d = preds.get(k).reduce((m, p) => Math.max(m, depth(p) + 1), 0);
    layer.set(k, d);
    return d;
  };
  nodes.forEach((n) => depth(n.key));
  return layer;
}

function label(name, max = 24) {
  return name.length > max ? `${name.slice(0, max - 1)}…` : name;
}

export function drawPath(graph, { mastery, levelOf, pathKeys, goalKeys, nextKey }) {
  const layer = layers(graph.nodes, graph.edges);
  const columns = [];
  for (const n of [...graph.nodes].sort((a, b) => a.name.localeCompare(b.name))) {
    const l = layer.get(n.key);
    (columns[l] ||= []).push(n);
  }
  const tallest = Math.max(...columns.map((c) => c.length));
  const height = tallest * (H + GAP_Y) + GAP_Y;
  const width = columns.length * (W + GAP_X) - GAP_X + 24;
  const pos = new Map();
  columns.forEach((col, x) => {
    const top = (height - col.length * (H + GAP_Y) + GAP_Y) / 2;
    col.forEach((n, y) => pos.set(n.key, { x: 12 + x * (W + GAP_X), y: top + y * (H + GAP_Y) }));
  });

  const onPath = (k) => pathKeys.has(k) || goalKeys.has(k);
  const edges = graph.edges
    .filter((e) => pos.has(e.source.key) && pos.has(e.target.key))
    .map((e) => {
      const a = pos.get(e.source.key);
      const b = pos.get(e.target.key);
      const x1 = a.x + W;
      const y1 = a.y + H / 2;
      const x2 = b.x - 4;
      const y2 = b.y + H / 2;
      const mid = (x1 + x2) / 2;
      const cls = onPath(e.source.key) && onPath(e.target.key) ? "edge on-path" : "edge";
      return s("path", { class: cls, d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`, "marker-end": "url(#arrow)", "data-source": e.source.key, "data-target": e.target.key });
    });
  const nodes = graph.nodes.map((n) => {
    const { x, y } = pos.get(n.key);
    const p = mastery.get(n.key) ?? null;
    const classes = ["node", pathKeys.has(n.key) ? "on-path" : "", goalKeys.has(n.key) ? "goal" : "", n.key === nextKey ? "next" : ""].filter(Boolean).join(" ");
    return s(
      "g",
      { class: classes, "data-skill": n.key, "data-level": levelOf(p).id, transform: `translate(${x},${y})` },
      s("title", {}, `${n.name}: ${p === null ? "not started" : pct(p)}${goalKeys.has(n.key) ? " (goal)" : ""}`),
      s("rect", { width: W, height: H, rx: 6 }),
      s("text", { x: 8, y: 15 }, label(n.name)),
      s("text", { x: 8, y: 30, class: "sub" }, `${levelOf(p).label}${p === null ? "" : ` · ${pct(p)}`}${goalKeys.has(n.key) ? " · goal" : ""}`),
    );
  });
  return s(
    "svg",
    { class: "path-svg", id: "path-graph", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "prerequisite graph of the goals", width, height },
    s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" }, s("path", { d: "M0,0 L10,5 L0,10 z", fill: "#98a2b3" }))),
    edges,
    nodes,
  );
}
