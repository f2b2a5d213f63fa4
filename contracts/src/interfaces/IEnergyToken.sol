// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Energy token: one ERC-1155 id per (interval, zone, source, meter), one unit per Wh.
/// @notice Tokens exist only for verified export: the market mints an interval's tokens when it
/// settles that interval, to the buyers under the selling meter's id and, for what the community did
/// not buy, to the grid account under the pooled id of that interval, zone and source (meter id 0).
interface IEnergyToken {
    /// @notice Origin of the energy behind a token id.
    struct Origin {
        uint64 interval;
        uint32 zone;
        uint8 source;
        uint32 meterId;
    }

    /// @notice Mints `energyWh` tokens of `id` to `to`. Minter (the market) only. No receiver hook is
    /// called: anyone may redeem an energy claim for its recipient, and a recipient contract must not be
    /// able to make that fail.
    function mint(address to, uint256 id, uint256 energyWh) external;

    /// @notice The token id for energy exported by `meterId` in `interval`.
    function tokenIdOf(uint64 interval, uint32 zone, uint8 source, uint32 meterId) external pure returns (uint256);

    /// @notice Decodes the origin carried by a token id.
    function originOf(uint256 id) external pure returns (Origin memory);

    /// @notice Total Wh minted for `interval` (all meters).
    function mintedWh(uint64 interval) external view returns (uint256);
}
