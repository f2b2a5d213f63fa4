// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Packed words of one meter in one interval, and the running hash that commits to them.
/// @notice Settlement calldata carries each meter as two words instead of eight ABI-padded fields, which
/// saves ~700 gas per household (calldata costs 16 gas per non-zero byte and 4 per zero byte):
/// - meter word:  owner << 96 | meterId << 64 | zone << 48 | source << 40 (low 40 bits zero)
/// - energy word: exportWh << 192 | importWh << 128 | soldWh << 64 | boughtWh
/// Readings are not stored. Each interval keeps one running hash, head' = keccak256(head, meter word,
/// reading word), where the reading word is the energy word without the fills; settlement recomputes it
/// from its entries, so they must be exactly the verified readings, in the same order.
library MeterEntry {
    uint256 private constant READING_MASK = ~uint256(type(uint128).max);

    function meterWord(address owner_, uint32 meterId_, uint16 zone_, uint8 source_) internal pure returns (uint256) {
        return (uint256(uint160(owner_)) << 96) | (uint256(meterId_) << 64) | (uint256(zone_) << 48)
            | (uint256(source_) << 40);
    }

    function readingWord(uint64 exportWh_, uint64 importWh_) internal pure returns (uint256) {
        return (uint256(exportWh_) << 192) | (uint256(importWh_) << 128);
    }

    /// @notice The reading part of an energy word (the fills cleared).
    function readingOf(uint256 energy) internal pure returns (uint256) {
        return energy & READING_MASK;
    }

    function owner(uint256 meter) internal pure returns (address) {
        return address(uint160(meter >> 96));
    }

    function meterId(uint256 meter) internal pure returns (uint32) {
        return uint32(meter >> 64);
    }

    function zone(uint256 meter) internal pure returns (uint16) {
        return uint16(meter >> 48);
    }

    function source(uint256 meter) internal pure returns (uint8) {
        return uint8(meter >> 40);
    }

    function exportWh(uint256 energy) internal pure returns (uint64) {
        return uint64(energy >> 192);
    }

    function importWh(uint256 energy) internal pure returns (uint64) {
        return uint64(energy >> 128);
    }

    function soldWh(uint256 energy) internal pure returns (uint64) {
        return uint64(energy >> 64);
    }

    function boughtWh(uint256 energy) internal pure returns (uint64) {
        return uint64(energy);
    }

    /// @notice keccak256(abi.encode(head, meter, reading)), hashed in scratch memory past the free
    /// pointer so a loop over a thousand meters does not grow memory (whose cost is quadratic).
    function chain(bytes32 head, uint256 meter, uint256 reading) internal pure returns (bytes32 next) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, head)
            mstore(add(p, 0x20), meter)
            mstore(add(p, 0x40), reading)
            next := keccak256(p, 0x60)
        }
    }
}
