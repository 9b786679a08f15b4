import { streamDiagnostics, summarizePlanStream } from "../../scripts/lib/terraform";

const line = (o: unknown) => JSON.stringify(o);
const change = (addr: string, action: string) =>
  line({
    type: "planned_change",
    change: { resource: { addr, module: "", resource_type: addr.replace(/^data\./, "").split(".")[0], resource_name: addr.split(".").pop() }, action },
  });

describe("summarizePlanStream", () => {
  test("collects creates by address and counts actions", () => {
    const stream = [line({ type: "version" }), change("aws_vpc.main", "create"), change("aws_subnet.a", "create"), line({ type: "change_summary" })].join("\n");
    expect(summarizePlanStream(stream)).toEqual({
      actions: { create: 2 },
      creates: 2,
      createdAddresses: ["aws_subnet.a", "aws_vpc.main"],
      nonCreates: [],
      deferredReads: 0,
      errored: false,
    });
  });

  test("reports non-create changes, deferred data reads and error diagnostics", () => {
    const stream = [
      change("aws_vpc.main", "update"),
      change("aws_subnet.a", "replace"),
      change("data.aws_iam_policy_document.doc", "read"),
      line({ type: "diagnostic", diagnostic: { severity: "error", summary: "Unsupported argument", detail: "An argument named \"bogus\" is not expected here." } }),
      "not json",
    ].join("\n");
    const summary = summarizePlanStream(stream);
    expect(summary.nonCreates).toEqual(["aws_vpc.main: update", "aws_subnet.a: replace"]);
    expect(summary.deferredReads).toBe(1);
    expect(summary.errored).toBe(true);
    expect(summary.creates).toBe(0);
    expect(streamDiagnostics(stream)).toContain("error: Unsupported argument");
  });
});
