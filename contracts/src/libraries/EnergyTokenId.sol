// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Energy token id layout: interval (64 bits) | zone (32) | source (8) | meter id (32).
library EnergyTokenId {
    /// @notice Encodes the origin of a Wh into its token id.
    function encode(uint64 interval, uint32 zone, uint8 source, uint32 meterId) internal pure returns (uint256) {
        return (uint256(interval) << 72) | (uint256(zone) << 40) | (uint256(source) << 32) | uint256(meterId);
    }

    /// @notice The id of the pool that holds energy of this interval, zone and source sold to the grid:
    /// the same id with meter id 0. Minting unsold energy to one id per pool, not one per meter, saves
    /// a storage slot per seller; the selling meter stays on record in the leaf of the interval's energy root.
    function pooled(uint256 id) internal pure returns (uint256) {
        return id & ~uint256(type(uint32).max);
    }

    /// @notice The interval a token id belongs to.
    function intervalOf(uint256 id) internal pure returns (uint64) {
        return uint64(id >> 72);
    }
}
