// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

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
    /// @notice keccak256(bytes.concat(keccak256(abi.encode(interval, recipient, sellerMeterId, tokenId,
    /// energyWh)))), computed in scratch memory.
    function leaf(uint64 interval, address recipient, uint32 sellerMeterId, uint256 tokenId, uint64 energyWh)
        internal
        pure
        returns (bytes32 h)
    {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, and(interval, 0xffffffffffffffff))
            mstore(add(p, 0x20), and(recipient, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(p, 0x40), and(sellerMeterId, 0xffffffff))
            mstore(add(p, 0x60), tokenId)
            mstore(add(p, 0x80), and(energyWh, 0xffffffffffffffff))
            mstore(0x00, keccak256(p, 0xa0))
            h := keccak256(0x00, 0x20)
        }
    }

    /// @notice The root of the first `count` leaves (zero when there are none). Overwrites `leaves`.
    function root(bytes32[] memory leaves, uint256 count) internal pure returns (bytes32) {
        if (count == 0) return bytes32(0);
        while (count > 1) {
            uint256 half = count / 2;
            for (uint256 i; i < half; ++i) {
                leaves[i] = Hashes.commutativeKeccak256(leaves[2 * i], leaves[2 * i + 1]);
            }
            if (count % 2 == 1) {
                leaves[half] = leaves[count - 1];
                count = half + 1;
            } else {
                count = half;
            }
        }
        return leaves[0];
    }
}
