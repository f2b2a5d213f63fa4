import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const solc = require("solc") as {
  compile(input: string, callbacks: { import(path: string): { contents: string } | { error: string } }): string;
  version(): string;
};

export const rootDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const srcDir = join(rootDir, "contracts", "src");

/** Contracts (and linked libraries) whose ABI and bytecode the platform needs, by path under contracts/src. */
export const deployedContracts = [
  "CommunityRegistry",
  "EnergyToken",
  "CommunityCredit",
  "BilateralAgreements",
  "libraries/ZonalPrices",
  "EnergyMarket",
] as const;

export const compilerSettings = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
  viaIR: true,
} as const;

function listSol(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return listSol(path);
    return name.endsWith(".sol") ? [path] : [];
  });
}

/** Resolves an import the way forge's remappings do (see foundry.toml). */
export function resolveImport(path: string): { contents: string } | { error: string } {
  const candidates = path.startsWith("@openzeppelin/")
    ? [join(rootDir, "node_modules", path)]
    : [join(rootDir, path), join(rootDir, "contracts", path)];
  for (const candidate of candidates) {
    try {
      return { contents: readFileSync(candidate, "utf8") };
    } catch {}
  }
  return { error: `not found: ${path}` };
}

/** A compiled contract; `libraries` maps each library it links to onto its placeholder in `bytecode`. */
export type CompiledContract = { abi: unknown[]; bytecode: `0x${string}`; libraries: Record<string, string> };

/** EIP-170: the most runtime code a contract may have on Ethereum and on anvil. */
const MAX_RUNTIME_BYTES = 24_576;

/** Compiles contracts/src with solc-js and returns the deployable contracts. Throws on any error. */
export function compileContracts(): { solcVersion: string; contracts: Record<string, CompiledContract> } {
  const sources: Record<string, { content: string }> = {};
  for (const file of listSol(srcDir)) {
    sources[relative(rootDir, file)] = { content: readFileSync(file, "utf8") };
  }
  const input = {
    language: "Solidity",
    sources,
    settings: {
      ...compilerSettings,
      outputSelection: {
        "*": { "*": ["abi", "evm.bytecode.object", "evm.bytecode.linkReferences", "evm.deployedBytecode.object"] },
      },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: resolveImport })) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<
      string,
      Record<
        string,
        {
          abi: unknown[];
          evm: {
            bytecode: { object: string; linkReferences: Record<string, Record<string, { start: number; length: number }[]>> };
            deployedBytecode: { object: string };
          };
        }
      >
    >;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) {
    throw new Error(`Solidity compilation failed:\n${errors.map((e) => e.formattedMessage).join("\n")}`);
  }
  const contracts: Record<string, CompiledContract> = {};
  for (const path of deployedContracts) {
    const name = path.split("/").pop() as string;
    const file = output.contracts[`contracts/src/${path}.sol`]?.[name];
    if (!file) throw new Error(`contract ${name} missing from compiler output`);
    // Forge does not enforce EIP-170, so a market grown too big would pass its tests and fail to deploy.
    const runtimeBytes = file.evm.deployedBytecode.object.length / 2;
    if (process.env.SHOW_SIZES) console.log(name, runtimeBytes);
    if (runtimeBytes > MAX_RUNTIME_BYTES) {
      throw new Error(`${name} is ${runtimeBytes} bytes of runtime code, over the ${MAX_RUNTIME_BYTES}-byte limit (EIP-170)`);
    }
    const bytecode = file.evm.bytecode.object;
    // Each linked library leaves a 20-byte placeholder in the bytecode, replaced by its address at deployment.
    const libraries: Record<string, string> = {};
    for (const refs of Object.values(file.evm.bytecode.linkReferences)) {
      for (const [library, [first]] of Object.entries(refs)) {
        if (first) libraries[library] = bytecode.slice(first.start * 2, (first.start + first.length) * 2);
      }
    }
    contracts[name] = { abi: file.abi, bytecode: `0x${bytecode}`, libraries };
  }
  return { solcVersion: solc.version(), contracts };
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/** Renders the generated TypeScript module with every ABI `as const`, so viem infers types from it. */
export function renderArtifacts(result: ReturnType<typeof compileContracts>): string {
  const lines = [
    "// Generated by `npm run build:contracts` (scripts/buildContracts.ts) from contracts/src.",
    `// Compiler: solc-js ${result.solcVersion}, optimizer 200 runs, via IR, EVM cancun. Do not edit by hand.`,
    "",
  ];
  for (const [name, c] of Object.entries(result.contracts)) {
    lines.push(`export const ${lowerFirst(name)}Abi = ${JSON.stringify(c.abi)} as const;`, "");
    lines.push(`export const ${lowerFirst(name)}Bytecode = "${c.bytecode}" as const;`, "");
    if (Object.keys(c.libraries).length > 0) {
      lines.push(`/** Placeholders in ${lowerFirst(name)}Bytecode for the libraries it links to (see linkBytecode). */`);
      lines.push(`export const ${lowerFirst(name)}Libraries = ${JSON.stringify(c.libraries)} as const;`, "");
    }
  }
  return lines.join("\n");
}

export const artifactsPath = join(rootDir, "src", "chain", "generated", "contracts.ts");
