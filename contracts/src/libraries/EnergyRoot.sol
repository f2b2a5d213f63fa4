// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Energy tokens issued as a Merkle root.
/// @notice Minting an ERC-1155 balance for each buyer in each interval would write a fresh storage slot
/// per buyer (~25k gas), more than the whole per-household budget. Instead settlement computes, on chain,
/// a Merkle tree over what every recipient is owed (one leaf per trade and per sale to the grid) and
/// stores only its root; anyone can later redeem a leaf for the tokens with a proof, and pays for that
/// mint. The tree is built in memory from leaves the contract derived itself, so no one can issue energy
/// that was not verified and settled.
/// Leaves are double-hashed and pairs hashed in sorted order, as OpenZeppelin's {MerkleProof} expects;
/// an odd node is carried up unchanged. docs/architecture.md shows the same tree built in TypeScript.
library EnergyRoot {
    /// @notice keccak256(bytes.concat(keccak256(abi.encode(interval, index, recipient, sellerMeterId,
    /// tokenId, energyWh)))), computed in scratch memory; `index` is the leaf's position in the tree.
    function leaf(uint64 interval, uint32 index, address recipient, uint32 sellerMeterId, uint256 tokenId, uint64 energyWh)
        internal
        pure
        returns (bytes32 h)
    {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, and(interval, 0xffffffffffffffff))
            mstore(add(p, 0x20), and(index, 0xffffffff))
            mstore(add(p, 0x40), and(recipient, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(p, 0x60), and(sellerMeterId, 0xffffffff))
            mstore(add(p, 0x80), tokenId)
            mstore(add(p, 0xa0), and(energyWh, 0xffffffffffffffff))
            mstore(0x00, keccak256(p, 0xc0))
            h := keccak256(0x00, 0x20)
        }
    }

    /// @notice leaves[index] = leaf(interval, index, ...), with the preimage written over leaves[index] and
    /// the five words after it, which must be unused (free memory past the array's end included).
    /// Settlement appends its leaves this way so that memory, paid for as it is first touched, grows with
    /// the leaves written. EnergyMarket's settlement loops do the same in assembly (keep them in step).
    function append(
        bytes32[] memory leaves,
        uint256 index,
        uint64 interval,
        address recipient,
        uint32 sellerMeterId,
        uint256 tokenId,
        uint64 energyWh
    ) internal pure {
        assembly ("memory-safe") {
            let p := add(add(leaves, 0x20), shl(5, index))
            mstore(p, and(interval, 0xffffffffffffffff))
            mstore(add(p, 0x20), index)
            mstore(add(p, 0x40), and(recipient, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(p, 0x60), and(sellerMeterId, 0xffffffff))
            mstore(add(p, 0x80), tokenId)
            mstore(add(p, 0xa0), and(energyWh, 0xffffffffffffffff))
            mstore(0x00, keccak256(p, 0xc0))
            mstore(p, keccak256(0x00, 0x20))
        }
    }

    /// @notice The root of the first `count` leaves (zero when there are none). Overwrites `leaves`.
    /// Unchecked and without bounds checks: every index is below `count`, which the caller keeps within
    /// the array.
    function root(bytes32[] memory leaves, uint256 count) internal pure returns (bytes32 r) {
        if (count == 0) return bytes32(0);
        assembly ("memory-safe") {
            let base := add(leaves, 0x20)
            for {} gt(count, 1) {} {
                let half := shr(1, count)
                for { let i := 0 } lt(i, half) { i := add(i, 1) } {
                    let a := mload(add(base, shl(6, i)))
                    let b := mload(add(base, add(shl(6, i), 0x20)))
                    // Sorted pair, as Hashes.commutativeKeccak256 and MerkleProof do.
                    if gt(a, b) {
                        let t := a
                        a := b
                        b := t
                    }
                    mstore(0x00, a)
                    mstore(0x20, b)
                    mstore(add(base, shl(5, i)), keccak256(0x00, 0x40))
                }
                switch and(count, 1)
                case 1 {
                    mstore(add(base, shl(5, half)), mload(add(base, shl(5, sub(count, 1)))))
                    count := add(half, 1)
                }
                default { count := half }
            }
            r := mload(base)
        }
    }
}
