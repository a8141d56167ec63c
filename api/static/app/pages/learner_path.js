// The goals' prerequisite graph as inline SVG: skills in layers by their longest chain of
// prerequisites (left to right), coloured by mastery level, the path still to learn outlined,
// the goals in bold and the next item's skill in orange.
import { pct, s } from "../js/dom.js";

const W = 150; // node box
const H = 38;
const GAP_X = 40;
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

function label(name, max = 22) {
  return name.length > max ? `${name.slice(0, max - 1)}…` : name;
}

/**
 * A goal's prerequisite closure can hold 80 skills and the path still to learn 60: past
 * `limit` skills, keep the next `ahead` steps of the path (in the path's order), the goals,
 * and the direct prerequisites of those (as context). Returns {graph, hidden}: the kept
 * graph and the keys left out.
 */
export function focusGraph(graph, { pathSteps, goalKeys, limit = 24, ahead = 6 }) {
  if (graph.nodes.length <= limit) return { graph, hidden: [] };
  const core = new Set([...pathSteps.slice(0, ahead), ...goalKeys]);
  const keep = new Set(core);
  for (const e of graph.edges) if (core.has(e.target.key)) keep.add(e.source.key);
  const nodes = graph.nodes.filter((n) => keep.has(n.key));
  const edges = graph.edges.filter((e) => keep.has(e.source.key) && keep.has(e.target.key));
  const hidden = graph.nodes.filter((n) => !keep.has(n.key)).map((n) => n.key);
  return { graph: { nodes, edges }, hidden };
}

/** Goals in the last column, and every skill as far right as its dependents allow, so a
 * prerequisite sits just before the skill that needs it. */
function pullRight(layer, edges, goalKeys) {
  const succ = new Map([...layer.keys()].map((k) => [k, []]));
  for (const e of edges) if (succ.has(e.source.key) && succ.has(e.target.key)) succ.get(e.source.key).push(e.target.key);
  const last = Math.max(0, ...[...layer].filter(([k]) => !goalKeys.has(k)).map(([, l]) => l)) + 1;
  for (const k of goalKeys) if (layer.has(k) && succ.get(k).length === 0) layer.set(k, Math.max(layer.get(k), last));
  const byLayer = [...layer.keys()].sort((a, b) => layer.get(b) - layer.get(a));
  for (const k of byLayer) {
    const next = succ.get(k).map((t) => layer.get(t));
    if (next.length && !goalKeys.has(k)) layer.set(k, Math.max(layer.get(k), Math.min(...next) - 1));
  }
  return layer;
}

export function drawPath(graph, { mastery, levelOf, pathKeys, goalKeys, nextKey }) {
  const layer = pullRight(layers(graph.nodes, graph.edges), graph.edges, goalKeys);
  const columns = [];
  for (const n of [...graph.nodes].sort((a, b) => a.name.localeCompare(b.name))) {
    const l = layer.get(n.key);
    (columns[l] ||= []).push(n);
  }
  for (let i = 0; i < columns.length; i++) columns[i] ||= []; // a layer may be empty
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
