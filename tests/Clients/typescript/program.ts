// An integrator's program against Rectify, written only against the types openapi-typescript generates from
// openapi/v1.json and called through openapi-fetch: no casts, no `any`, no `in` checks. Exits non-zero on any failure.
// RECTIFY_URL: the service's base address; RECTIFY_KEY: an API key with every scope; RECTIFY_RUN: a suffix for codes.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/rectify.js";

type Schemas = components["schemas"];
type ImportError = NonNullable<Awaited<ReturnType<typeof importValues>>["error"]>;
type ImportRejected = paths["/api/v1/data-values/import"]["post"]["responses"][422]["content"]["application/problem+json"];

const baseUrl = required("RECTIFY_URL");
const run = process.env["RECTIFY_RUN"] ?? String(Date.now());
const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${required("RECTIFY_KEY")}` } });
const round = "HN-8-6-6";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function ok<T>(result: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (result.data === undefined) throw new Error(`${what}: ${result.response.status} ${JSON.stringify(result.error)}`);
  return result.data;
}

function importValues(values: Schemas["DataValueInput"][]) {
  return client.POST("/api/v1/data-values/import", { params: { query: { atomic: true } }, body: values });
}

// The import's refusal is documented on its own status: its body's status says which schema it has.
function isRejected(error: ImportError): error is ImportRejected {
  return error.status === 422;
}

const issueStates: readonly Schemas["IssueState"][] = ["open", "in_progress", "pending_review", "closed", "long_term"];

async function main(): Promise<void> {
  const dashboard = ok(await client.GET("/api/v1/rounds/{round}/dashboard", { params: { path: { round } } }), "dashboard");
  check(dashboard.round === round && dashboard.totals.issues > 0, "the dashboard counts the round's issues");
  const today = dashboard.asOf;

  const issues = ok(await client.GET("/api/v1/issues", { params: { query: { round, limit: 50 } } }), "list issues");
  const first = issues.items[0];
  check(first !== undefined, "the round has issues");
  for (const state of first.allowedTransitions) check(issueStates.includes(state), `allowed transition ${state} is an issue state`);

  const issue = ok(await client.GET("/api/v1/issues/{id}", { params: { path: { id: first.id } } }), "read an issue");
  check(issue.id === first.id && issue.round === round, "the issue read is the one listed");

  const due = new Date(`${today}T00:00:00Z`);
  due.setUTCDate(due.getUTCDate() + 60);
  const measure = ok(await client.POST("/api/v1/measures", {
    body: { issueId: issue.id, code: `TS-${run}`, title: "生成的客户端：TypeScript", ownerUnit: "460000", dueDate: due.toISOString().slice(0, 10) },
  }), "create a measure");
  check(measure.state === "planned", `a new measure is planned, not ${measure.state}`);

  const progress = ok(await client.POST("/api/v1/measures/{id}/progress", {
    params: { path: { id: measure.id } },
    body: { reportedOn: today, percent: 40, note: "已完成方案制定" },
  }), "post progress");
  check(progress.percent === 40, "the progress entry says 40%");

  const push = await importValues([
    { indicator: "LOTTERY-SALES", unit: "460000", period: "2025-09", value: 8520, comment: null },
    { indicator: `NO-SUCH-INDICATOR-${run}`, unit: "460000", period: "2025-09", value: 1, comment: null },
  ]);
  check(push.response.status === 422 && push.error !== undefined, `an atomic push with a bad row is refused (got ${push.response.status})`);
  check(isRejected(push.error), "the refusal is the import's own problem");
  const summary = push.error.summary;
  check(summary !== null && summary !== undefined, "the refusal carries the push's summary");
  check(!summary.applied && summary.rejected === 1 && summary.received === 2, `summary: ${JSON.stringify(summary)}`);
  check(summary.errors.some(e => e.row === 2), "the bad row is named");

  const series = ok(await client.GET("/api/v1/indicators/{code}/series", {
    params: { path: { code: "LOTTERY-SALES" }, query: { unit: "460000", from: "2025-01", to: "2025-10" } },
  }), "read a series");
  check(series.points.length > 0 && series.points.every(p => p.period.startsWith("2025-")), "the series has 2025's points");

  const journal = ok(await client.GET("/api/v1/journal", {
    params: { query: { entity: "measure", entityId: String(measure.id), limit: 20 } },
  }), "read the journal");
  const created = journal.items.find(e => e.action === "create");
  check(created !== undefined && created.before === null && created.after !== null, "the journal holds the creation");
  check(created.after["code"] === `TS-${run}`, `the journal's after has the measure's fields: ${JSON.stringify(created.after)}`);
  const changed = journal.items.find(e => e.before !== null && e.after !== null);
  check(changed !== undefined, "the journal holds the progress with before and after");

  const report = await client.GET("/api/v1/rounds/{round}/report", {
    params: { path: { round }, query: { period: "2025-10", format: "md" } },
    parseAs: "text",
  });
  const markdown = ok(report, "the Markdown report");
  check(markdown.startsWith("# ") && markdown.includes("整改进展情况"), "the report is Markdown text");

  console.log(`TypeScript client: ${issues.items.length} issues, measure ${measure.id}, ${series.points.length} points, report ${markdown.length} chars`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
