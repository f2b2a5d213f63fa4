import secp256k1 from "secp256k1";
import { type Address, bytesToHex, domainSeparator, getAddress, type Hex, hexToBytes, keccak256, toBytes } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { keccak256Bytes } from "../chain/keccak.ts";

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

/** A meter's signing key and the address the registry knows it by. */
export type MeterKey = { address: Address; privateKey: Hex };

export { readingTypes } from "./readingTypes.ts";

const READING_TYPEHASH = toBytes(keccak256(toBytes("Reading(address meter,uint64 interval,uint64 exportWh,uint64 importWh)")));
const U64_MAX = 2n ** 64n - 1n;
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;
const S_MASK = (1n << 255n) - 1n;

/** @example meterKey("0x…32 bytes…") // { address: "0x…", privateKey: "0x…" } */
export function meterKey(privateKey: Hex): MeterKey {
  return { address: privateKeyToAddress(privateKey), privateKey };
}

const separators = new Map<string, Uint8Array>();
function separatorOf(domain: ReadingDomain): Uint8Array {
  const key = `${domain.chainId}:${domain.verifyingContract.toLowerCase()}`;
  let separator = separators.get(key);
  if (!separator) {
    separator = toBytes(
      domainSeparator({
        domain: { name: "PeerGrid", version: "1", chainId: domain.chainId, verifyingContract: domain.verifyingContract },
      }),
    );
    separators.set(key, separator);
  }
  return separator;
}

function writeWord(out: Uint8Array, offset: number, value: bigint) {
  for (let i = 31; i >= 0 && value > 0n; i--) {
    out[offset + i] = Number(value & 0xffn);
    value >>= 8n;
  }
}

function digestBytes(domain: ReadingDomain, reading: Reading): Uint8Array {
  for (const [name, value] of [
    ["interval", reading.interval],
    ["exportWh", reading.exportWh],
    ["importWh", reading.importWh],
  ] as const) {
    if (value < 0n || value > U64_MAX) throw new RangeError(`reading ${name} ${value} is outside uint64`);
  }
  // The struct hash is abi.encode(typehash, meter, interval, exportWh, importWh), built by hand: this runs
  // for every reading a gateway receives, and the generic typed-data encoder is ten times slower.
  const encoded = new Uint8Array(160);
  encoded.set(READING_TYPEHASH, 0);
  encoded.set(hexToBytes(reading.meter), 44);
  writeWord(encoded, 64, reading.interval);
  writeWord(encoded, 96, reading.exportWh);
  writeWord(encoded, 128, reading.importWh);
  const message = new Uint8Array(66);
  message[0] = 0x19;
  message[1] = 0x01;
  message.set(separatorOf(domain), 2);
  message.set(keccak256Bytes(encoded), 34);
  return keccak256Bytes(message);
}

/**
 * The digest the meter signs; equals `EnergyMarket.readingDigest` on chain (EIP-712).
 * @example readingDigest({ chainId: 31337, verifyingContract: market }, reading)
 */
export function readingDigest(domain: ReadingDomain, reading: Reading): Hex {
  return bytesToHex(digestBytes(domain, reading));
}

/**
 * Signs a reading with the meter's key (libsecp256k1 through the `secp256k1` package; its pure-JS
 * fallback when the native build is missing).
 * @example const signed = signReading(meterKey(key), domain, { interval, exportWh, importWh });
 */
export function signReading(meter: MeterKey, domain: ReadingDomain, reading: Omit<Reading, "meter">): SignedReading {
  const full = { ...reading, meter: meter.address };
  const { signature, recid } = secp256k1.ecdsaSign(digestBytes(domain, full), hexToBytes(meter.privateKey));
  const vs = signature.slice(32);
  if (recid === 1) vs[0] = (vs[0] as number) | 0x80;
  return { ...full, r: bytesToHex(signature.slice(0, 32)), vs: bytesToHex(vs) };
}

/**
 * Checks off chain, as the contract will (including its low-s rule), that the meter named in the
 * reading signed it for this domain. Gateways use it to refuse forged readings before they cost gas.
 * @example if (!verifyReading(domain, signed)) throw new Error("forged")
 */
export function verifyReading(domain: ReadingDomain, signed: SignedReading): boolean {
  try {
    const vs = BigInt(signed.vs);
    const s = vs & S_MASK;
    if (s === 0n || s > HALF_ORDER) return false;
    const signature = new Uint8Array(64);
    signature.set(hexToBytes(signed.r, { size: 32 }), 0);
    writeWord(signature, 32, s);
    const publicKey = secp256k1.ecdsaRecover(signature, Number(vs >> 255n), digestBytes(domain, signed), false);
    const address = bytesToHex(keccak256Bytes(publicKey.slice(1)).slice(12));
    return getAddress(address) === getAddress(signed.meter);
  } catch {
    return false;
  }
}
