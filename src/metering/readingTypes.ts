/**
 * The EIP-712 type of a meter reading, as the market contract defines it. Its own module, free of Node
 * dependencies, so the dashboard verifies readings in the browser against the same definition.
 * @example signTypedData({ domain, types: readingTypes, primaryType: "Reading", message })
 */
export const readingTypes = {
  Reading: [
    { name: "meter", type: "address" },
    { name: "interval", type: "uint64" },
    { name: "exportWh", type: "uint64" },
    { name: "importWh", type: "uint64" },
  ],
} as const;
