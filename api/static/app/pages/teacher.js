// The teacher dashboard: class heatmap (learners x skills), who is stuck where with the
// root-cause prerequisite, progress over time, the at-risk list with reasons, alerts (live
// over the alertRaised subscription; each kept until a teacher dismisses it), class goals,
// segments of similar learners, CSV export.
//
// Route: #/teacher (the first class the teacher teaches) or #/teacher/<group id>.
// Everything comes from the group's fields (api/types/teacher.py): a teacher reads only the
// learners an admin enrolled in their classes.
import { errorBox, h, mount, pct, s } from "../js/dom.js";
import { expect, gql, subscribe } from "../js/graphql.js";
import { LEVELS, levelOf } from "../js/levels.js";

const ALERT_FIELDS = `key kind since message risk raisedAt acknowledged acknowledgedAt acknowledgedBy
  learner { key displayName } skill { key name } rootCause { key name }`;

const GROUPS_QUERY = `{ viewer { groups { key name } } }`;

const CLASS_QUERY = `query TeacherClass($id: ID!) {
  group(id: $id) {
    key name
    learners { totalCount nodes { key displayName } }
    masteryMatrix { skills { key name } rows { learner { key } probabilities } }
    goals { skill { key name } dueAt note masteredBy learners }
    atRisk(onlyAtRisk: true, first: 20) { probability lastAnswerAt learner { key displayName } reasons { code message } }
    riskModel { trained rows validationAuc threshold }
    alerts(status: ALL) { ...AlertFields }
    progress(days: 60) { at mastered expectedMastered answers }
    segments(k: 3) { size meanMastery learners { key displayName } nextSkill { key name } weakestSkills { name } }
  }
}
fragment AlertFields on Alert { ${ALERT_FIELDS} }`;

const ACK_ALERT = `mutation Dismiss($key: String!) {
  acknowledgeAlert(key: $key) {
    __typename
    ... on AcknowledgeAlertPayload { alert { ${ALERT_FIELDS} } }
    ... on Error { message }
  }
}`;

const GAPS_QUERY = `query Gaps($id: ID!, $goals: [ID!]!) {
  group(id: $id) { gaps(goalIds: $goals) { skill { key name } meanMastery learners { key displayName } } }
}`;

const SKILLS_QUERY = `query Skills($after: String) {
  skills(first: 100, after: $after) { edges { node { key name } } pageInfo { hasNextPage endCursor } }
}`;

async function allSkills(signal) {
  const out = [];
  let after = null;
  for (let page = 0; page < 20; page++) {
    const got = (await patient(SKILLS_QUERY, { after }, signal)).skills;
    out.push(...got.edges.map((e) => e.node));
    if (!got.pageInfo.hasNextPage) break;
    after = got.pageInfo.endCursor;
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

const SET_GOALS = `mutation SetGoals($id: ID!, $goals: [ClassGoalInput!]!) {
  setClassGoals(groupId: $id, goals: $goals) {
    __typename
    ... on ClassGoalsPayload { goals { skill { key } } }
    ... on Error { message }
  }
}`;

const CSV_QUERY = `query Csv($id: ID!) { group(id: $id) { name masteryCsv } }`;

const ALERT_SUB = `subscription Alerts($id: ID!) {
  alertRaised(groupId: $id) { ${ALERT_FIELDS} }
}`;

// The API answers slowly once per server: the at-risk model fits on the store's history at
// start-up (analytics.service). A request that runs past the timeout is asked again.
async function patient(query, variables, signal, tries = 4) {
  for (let k = 1; ; k++) {
    try {
      return await gql(query, variables, { signal });
    } catch (err) {
      if (k >= tries || err.code !== "LIMIT_EXCEEDED" || signal.aborted) throw err;
    }
  }
}

function when(iso) {
  return iso ? new Date(iso).toISOString().slice(0, 16).replace("T", " ") : "–";
}

function heatmap(matrix, learners) {
  const names = new Map(learners.map((l) => [l.key, l.displayName]));
  const head = h("tr", {}, h("th", { class: "who-col" }, "Learner"),
    matrix.skills.map((sk) => h("th", { class: "skill-col", title: sk.name }, h("span", {}, sk.name))));
  const body = matrix.rows.map((row) =>
    h("tr", { "data-learner": row.learner.key },
      h("th", { class: "who-col" }, h("a", { href: `#/learner/${row.learner.key}` }, names.get(row.learner.key) || row.learner.key)),
      row.probabilities.map((p, j) => {
        const level = levelOf(p);
        const label = `${names.get(row.learner.key)} · ${matrix.skills[j].name}: ${p === null ? "no estimate" : pct(p)}`;
        return h("td", { class: "cell", "data-level": level.id, title: label });
      })));
  const legend = h("div", { class: "legend" }, LEVELS.map((l) => h("span", {}, h("span", { class: "level-dot", "data-level": l.id }), l.label)));
  return [h("div", { class: "heatmap-wrap" }, h("table", { class: "heatmap", id: "heatmap" }, h("thead", {}, head), h("tbody", {}, body))), legend];
}

function progressChart(points) {
  if (!points.length) return h("p", { class: "muted" }, "No answers yet.");
  const W = 520, H = 170, P = 32;
  const top = Math.max(1, ...points.map((p) => p.expectedMastered));
  const x = (k) => P + (k * (W - 2 * P)) / Math.max(1, points.length - 1);
  const y = (v) => H - P + 8 - (v * (H - 2 * P)) / top;
  const line = (key) => points.map((p, k) => `${k ? "L" : "M"}${x(k).toFixed(1)},${y(p[key]).toFixed(1)}`).join(" ");
  return h("div", {},
    s("svg", { class: "progress-svg", id: "progress-chart", width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "class progress over time" },
      s("line", { x1: P, y1: y(0), x2: W - P, y2: y(0), class: "axis" }),
      s("path", { d: line("expectedMastered"), class: "series expected" }),
      s("path", { d: line("mastered"), class: "series mastered" }),
      s("text", { x: P, y: H - 6, class: "tick" }, points[0].at.slice(0, 10)),
      s("text", { x: W - P, y: H - 6, class: "tick", "text-anchor": "end" }, points[points.length - 1].at.slice(0, 10)),
      s("text", { x: 4, y: y(top) + 4, class: "tick" }, top.toFixed(0))),
    h("div", { class: "legend" },
      h("span", {}, h("span", { class: "swatch expected" }), "expected skills mastered (sum of P), mean per learner"),
      h("span", {}, h("span", { class: "swatch mastered" }), "skills at 80% or more, mean per learner")));
}

// One alert: open ones carry a Dismiss button (acknowledgeAlert); the answer replaces the item
// in place with its acknowledged state.
function alertItem(a, fresh = false, signal = undefined) {
  const who = a.learner ? a.learner.displayName : "?";
  const extra = a.kind === "STUCK" && a.rootCause && a.skill && a.rootCause.key !== a.skill.key
    ? h("span", { class: "root-cause" }, ` → work on ${a.rootCause.name} first`) : null;
  const state = a.acknowledged
    ? h("div", { class: "muted small acknowledged-by" }, `dismissed by ${a.acknowledgedBy} at ${when(a.acknowledgedAt)}`)
    : null;
  const status = h("span", { class: "status" });
  const item = h("li", {
    class: `alert ${a.kind.toLowerCase()}${fresh ? " fresh" : ""}${a.acknowledged ? " acknowledged" : ""}`,
    "data-key": a.key, "data-kind": a.kind, "data-acknowledged": String(Boolean(a.acknowledged)),
  },
    h("span", { class: "kind" }, a.kind === "STUCK" ? "Stuck" : "At risk"),
    h("strong", {}, who), " ", a.kind === "STUCK" && a.skill ? `on ${a.skill.name}` : "",
    extra,
    a.acknowledged ? null : h("button", { type: "button", class: "secondary dismiss", onClick: async () => {
      try {
        const got = expect((await gql(ACK_ALERT, { key: a.key }, { signal })).acknowledgeAlert, "AcknowledgeAlertPayload");
        item.replaceWith(alertItem(got.alert, false, signal));
      } catch (err) {
        mount(status, errorBox(err));
      }
    } }, "Dismiss"),
    h("div", { class: "muted small" }, `${a.message} · since ${when(a.since)} · raised ${when(a.raisedAt)}`),
    state, status);
  return item;
}

function riskList(rows, model) {
  const about = model.trained
    ? `model fitted on this store: ${model.rows} weekly cutoffs, held-out AUC ${model.validationAuc === null ? "–" : model.validationAuc.toFixed(2)}`
    : "too little history to fit a model yet: hand-set weights";
  if (!rows.length) return [h("p", { class: "muted" }, "Nobody is at risk now."), h("p", { class: "muted small" }, about)];
  return [
    h("ol", { class: "risk-list", id: "risk-list" }, rows.map((r) =>
      h("li", { "data-learner": r.learner.key },
        h("div", { class: "row-between" }, h("a", { href: `#/learner/${r.learner.key}` }, r.learner.displayName), h("span", { class: "risk" }, pct(r.probability))),
        h("ul", { class: "reasons" }, r.reasons.map((x) => h("li", { "data-code": x.code }, x.message)))))),
    h("p", { class: "muted small" }, about),
  ];
}

function segmentsView(segs) {
  return h("div", { class: "segments", id: "segments" }, segs.map((sg, k) =>
    h("div", { class: "segment" },
      h("h3", {}, `Segment ${k + 1} · ${sg.size} learner${sg.size === 1 ? "" : "s"} · mean ${pct(sg.meanMastery)}`),
      h("p", {}, "Teach next: ", h("strong", { class: "next-skill" }, sg.nextSkill ? sg.nextSkill.name : "nothing left")),
      sg.weakestSkills.length ? h("p", { class: "muted small" }, `Weakest: ${sg.weakestSkills.map((x) => x.name).join(", ")}`) : null,
      h("p", { class: "small" }, sg.learners.map((l) => l.displayName).join(", ")))));
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function goalsCard(root, group, ctx, reload) {
  const list = h("ul", { class: "goals", id: "class-goals" }, group.goals.length
    ? group.goals.map((g) => h("li", { "data-skill": g.skill.key },
        h("strong", {}, g.skill.name), ` · ${g.masteredBy}/${g.learners} mastered`,
        g.dueAt ? ` · due ${g.dueAt.slice(0, 10)}` : "", g.note ? h("span", { class: "muted" }, ` · ${g.note}`) : null))
    : h("li", { class: "muted" }, "No class goals yet."));
  const skills = await allSkills(ctx.signal);
  const pick = h("select", { id: "goal-skill", "aria-label": "skill" }, skills.map((sk) => h("option", { value: sk.key }, sk.name)));
  const due = h("input", { type: "date", id: "goal-due", "aria-label": "due date" });
  const status = h("span", { class: "muted", role: "status", id: "goal-status" });
  const form = h("form", { class: "row", id: "goal-form", onSubmit: async (e) => {
    e.preventDefault();
    const goals = group.goals.map((g) => ({ skillId: g.skill.key, dueAt: g.dueAt, note: g.note }));
    goals.push({ skillId: pick.value, dueAt: due.value ? `${due.value}T23:59:00Z` : null });
    try {
      expect((await gql(SET_GOALS, { id: group.key, goals }, { signal: ctx.signal })).setClassGoals, "ClassGoalsPayload");
      reload();
    } catch (err) {
      mount(status, errorBox(err));
    }
  } }, pick, due, h("button", { type: "submit" }, "Add goal"), status);
  mount(root, h("h2", {}, "Class goals"), list, form);
}

async function stuckCard(root, group, ctx) {
  const goals = group.goals.map((g) => g.skill.key);
  const stuck = group.alerts.filter((a) => a.kind === "STUCK" && !a.acknowledged);
  const parts = [h("h2", {}, "Who is stuck where")];
  parts.push(stuck.length
    ? h("ul", { class: "stuck-list" }, stuck.map((a) => h("li", {}, h("strong", {}, a.learner.displayName), ` on ${a.skill.name}`,
        a.rootCause && a.rootCause.key !== a.skill.key ? h("span", { class: "root-cause" }, ` ← root cause: ${a.rootCause.name}`) : " (its prerequisites are mastered)")))
    : h("p", { class: "muted" }, "Nobody is failing one skill over and over right now."));
  if (goals.length) {
    const gaps = (await patient(GAPS_QUERY, { id: group.key, goals }, ctx.signal)).group.gaps.slice(0, 6);
    parts.push(h("h3", {}, "Toward the class goals: root-cause skills"),
      h("ul", { class: "gap-list", id: "gap-list" }, gaps.map((g) => h("li", {}, h("strong", {}, g.skill.name),
        ` · ${g.learners.length} learner${g.learners.length === 1 ? "" : "s"} (mean ${pct(g.meanMastery)}): `,
        h("span", { class: "muted" }, g.learners.map((l) => l.displayName).join(", "))))));
  } else {
    parts.push(h("p", { class: "muted small" }, "Set class goals to see the root-cause skills toward them."));
  }
  mount(root, ...parts);
}

export async function render(root, ctx) {
  let key = ctx.params[0];
  if (!key) {
    const groups = (await gql(GROUPS_QUERY, {}, { signal: ctx.signal })).viewer.groups;
    if (!groups.length) {
      mount(root, h("section", { class: "card" }, h("p", {}, "You teach no class yet: an admin enrols you in one.")));
      return undefined;
    }
    key = groups[0].key;
  }
  let stop = null;
  const draw = async () => {
    const group = (await patient(CLASS_QUERY, { id: key }, ctx.signal)).group;
    if (!group) throw new Error(`no class ${key}`);
    const live = h("ul", { class: "alerts", id: "alerts" }, group.alerts.map((a) => alertItem(a, false, ctx.signal)));
    const riskBox = h("div", { id: "risk-box" }, riskList(group.atRisk, group.riskModel));
    const goalsBox = h("section", { class: "card", id: "goals-card" });
    const stuckBox = h("section", { class: "card", id: "stuck-card" });
    const csvButton = h("button", { type: "button", id: "csv-download", class: "secondary", onClick: async () => {
      const got = (await gql(CSV_QUERY, { id: key }, { signal: ctx.signal })).group;
      download(`${got.name.replace(/[^\w-]+/g, "_")}-mastery.csv`, got.masteryCsv);
    } }, "Download heatmap CSV");
    mount(root,
      h("div", { class: "page-head" }, h("h1", { id: "class-name" }, group.name), h("span", { class: "muted" }, `${group.learners.totalCount} learners`), csvButton),
      h("div", { class: "grid" },
        h("div", {},
          h("section", { class: "card" }, h("h2", {}, "Class heatmap"), heatmap(group.masteryMatrix, group.learners.nodes)),
          stuckBox,
          h("section", { class: "card" }, h("h2", {}, "Progress over the last 60 days"), progressChart(group.progress)),
          h("section", { class: "card" }, h("h2", {}, "Segments with similar needs"), segmentsView(group.segments))),
        h("div", {},
          h("section", { class: "card" }, h("h2", {}, "Alerts ", h("span", { class: "live", id: "alerts-live", title: "new alerts arrive live" }, "● live")),
            group.alerts.length ? null : h("p", { class: "muted", id: "no-alerts" }, "No alerts now."), live),
          h("section", { class: "card" }, h("h2", {}, "At risk this week"), riskBox),
          goalsBox)));
    await Promise.all([goalsCard(goalsBox, group, ctx, redraw), stuckCard(stuckBox, group, ctx)]);
    stop?.();
    stop = subscribe(ALERT_SUB, { id: key }, {
      onNext: async (data) => {
        const a = data.alertRaised;
        live.querySelector(`[data-key="${CSS.escape(a.key)}"]`)?.remove();
        root.querySelector("#no-alerts")?.remove();
        live.prepend(alertItem(a, true, ctx.signal));
        try { // the new answers move the at-risk list too
          const fresh = (await gql(CLASS_QUERY, { id: key }, { signal: ctx.signal })).group;
          mount(riskBox, riskList(fresh.atRisk, fresh.riskModel));
          mount(stuckBox);
          await stuckCard(stuckBox, fresh, ctx);
        } catch (err) {
          if (!ctx.signal.aborted) console.warn("refreshing after an alert failed", err);
        }
      },
      onReady: () => {
        const badge = root.querySelector("#alerts-live");
        if (badge) badge.dataset.state = "ready";
      },
      onError: (err) => {
        if (ctx.signal.aborted) return;
        const badge = root.querySelector("#alerts-live");
        if (badge) { badge.textContent = "● offline"; badge.title = String(err.message); badge.classList.add("off"); }
      },
    });
  };
  const redraw = () => draw().catch((err) => { if (!ctx.signal.aborted) mount(root, errorBox(err)); });
  await draw();
  return () => stop?.();
}
