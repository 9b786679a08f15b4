import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { printSynthCosts } from "../../src/insight";

function capture(): { write: (text: string) => boolean; text: () => string } {
  let buffer = "";
  return { write: (t: string) => ((buffer += t), true), text: () => buffer };
}

describe("printSynthCosts", () => {
  test("prints one cost line per synthesized stack", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "insight-hook-"));
    try {
      for (const name of ["fargate-a", "fargate-b"]) {
        fs.mkdirSync(path.join(dir, "stacks", name), { recursive: true });
        fs.writeFileSync(path.join(dir, "stacks", name, "cdk.tf.json"), JSON.stringify({ provider: { aws: [{ region: "us-east-1" }] }, resource: { aws_kms_key: { k: {} } } }));
      }
      const [stdout, stderr] = [capture(), capture()];
      printSynthCosts(dir, stdout, stderr);
      expect(stdout.text()).toBe(
        "cost fargate-a: $1.00/month (network $0.00, compute $0.00, data $0.00, delivery $0.00, observability $0.00, security $1.00)\n" +
          "cost fargate-b: $1.00/month (network $0.00, compute $0.00, data $0.00, delivery $0.00, observability $0.00, security $1.00)\n",
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a failing estimate prints one clear warning and does not throw", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "insight-hook-"));
    try {
      fs.mkdirSync(path.join(dir, "stacks", "fargate-x"), { recursive: true });
      fs.writeFileSync(path.join(dir, "stacks", "fargate-x", "cdk.tf.json"), JSON.stringify({ provider: { aws: [{ region: "xx-nowhere-1" }] } }));
      const [stdout, stderr] = [capture(), capture()];
      expect(() => printSynthCosts(dir, stdout, stderr)).not.toThrow();
      expect(stdout.text()).toBe("");
      expect(stderr.text()).toBe('warning: synth succeeded, but the cost estimate failed: no prices for region "xx-nowhere-1" in src/insight/prices.ts; it covers eu-west-1, us-east-1; add that region\'s rows (price, unit, source page, date read)\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
