import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { artifactsPath, compileContracts, renderArtifacts } from "./compileContracts.ts";

describe("generated ABIs", () => {
  it("match a fresh compile of contracts/src (run `npm run build:contracts` when this fails)", () => {
    expect(readFileSync(artifactsPath, "utf8")).toBe(renderArtifacts(compileContracts()));
  }, 120_000);
});
