// Small DOM helpers shared by every page: build elements without innerHTML (text is always
// set as text, so data from the API can never inject markup).

const SVG_NS = "http://www.w3.org/2000/svg";

function build(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** h("div", {class: "x", onClick: fn}, "text", child, [more]) -> an HTML element. */
export function h(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** s("circle", {cx: 1}) -> an SVG element (same arguments as h). */
export function s(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Replace everything inside el with children. */
export function mount(el, ...children) {
  el.replaceChildren();
  return build(el, {}, children);
}

/** 0.4213 -> "42%". */
export function pct(p) {
  return `${Math.round(p * 100)}%`;
}

/** An error box for a failed request (pages show it instead of their content). */
export function errorBox(error) {
  return h("div", { class: "error", role: "alert" }, String(error?.message || error));
}
