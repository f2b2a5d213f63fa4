import {
  type Address,
  compactSignatureToSignature,
  type Hex,
  hashTypedData,
  type PrivateKeyAccount,
  parseSignature,
  recoverTypedDataAddress,
  serializeSignature,
  signatureToCompactSignature,
} from "viem";

/** What a meter measures in one interval. */
export type Reading = {
  meter: Address;
  interval: bigint;
  exportWh: bigint;
  importWh: bigint;
};

/** A reading with the meter's EIP-712 signature in compact (EIP-2098) form, as the contract takes it. */
export type SignedReading = Reading & { r: Hex; vs: Hex };

/** The EIP-712 domain that binds a reading to one chain and one market contract. */
export type ReadingDomain = { chainId: number; verifyingContract: Address };

export const readingTypes = {
  Reading: [
    { name: "meter", type: "address" },
    { name: "interval", type: "uint64" },
    { name: "exportWh", type: "uint64" },
    { name: "importWh", type: "uint64" },
  ],
} as const;

const U64_MAX = 2n ** 64n - 1n;

function typedData(domain: ReadingDomain, reading: Reading) {
  for (const [name, value] of [
    ["interval", reading.interval],
    ["exportWh", reading.exportWh],
    ["importWh", reading.importWh],
  ] as const) {
    if (value < 0n || value > U64_MAX) throw new RangeError(`reading ${name} ${value} is outside uint64`);
  }
  return {
    domain: { name: "PeerGrid", version: "1", chainId: domain.chainId, verifyingContract: domain.verifyingContract },
    types: readingTypes,
    primaryType: "Reading" as const,
    message: reading,
  };
}

/**
 * The digest the meter signs; equals `EnergyMarket.readingDigest` on chain.
 * @example readingDigest({ chainId: 31337, verifyingContract: market }, reading)
 */
export function readingDigest(domain: ReadingDomain, reading: Reading): Hex {
  return hashTypedData(typedData(domain, reading));
}

/**
 * Signs a reading with the meter's key. The meter address in the reading must be the key's address.
 * @example const signed = await signReading(meterAccount, domain, { meter: meterAccount.address, interval, exportWh, importWh });
 */
export async function signReading(
  meterAccount: PrivateKeyAccount,
  domain: ReadingDomain,
  reading: Omit<Reading, "meter">,
): Promise<SignedReading> {
  const full = { ...reading, meter: meterAccount.address };
  const signature = await meterAccount.signTypedData(typedData(domain, full));
  const { r, yParityAndS } = signatureToCompactSignature(parseSignature(signature));
  return { ...full, r, vs: yParityAndS };
}

/**
 * Checks off chain, as the contract will, that the meter named in the reading signed it for this domain.
 * Gateways use it to refuse forged readings before they cost gas.
 * @example if (!(await verifyReading(domain, signed))) throw new Error("forged")
 */
export async function verifyReading(domain: ReadingDomain, signed: SignedReading): Promise<boolean> {
  try {
    const { r, vs, ...reading } = signed;
    const signer = await recoverTypedDataAddress({
      ...typedData(domain, reading),
      signature: serializeSignature(compactSignatureToSignature({ r, yParityAndS: vs })),
    });
    return signer.toLowerCase() === reading.meter.toLowerCase();
  } catch {
    return false;
  }
}
