// The app's pages. Each entry: the hash route (#/id/...), the nav title, the roles that see
// it, and a loader for its module, which exports `render(root, ctx)` (see js/shell.js).
// To add a page, add one line here and a module under pages/.
export const PAGES = [
  { id: "learner", title: "Learner", roles: ["learner", "teacher", "admin"], load: () => import("../pages/learner.js") },
  { id: "teacher", title: "Teacher", roles: ["teacher", "admin"], load: () => import("../pages/teacher.js") },
  { id: "designer", title: "Curriculum", roles: ["designer", "admin"], load: () => import("../pages/designer.js") },
];

/** The page a role lands on after signing in. */
export const HOME_OF_ROLE = { learner: "learner", teacher: "teacher", designer: "designer", admin: "learner" };
