// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {IEnergyToken} from "./interfaces/IEnergyToken.sol";
import {EnergyTokenId} from "./libraries/EnergyTokenId.sol";

/// @title PeerGrid energy token (ERC-1155, 1 unit = 1 Wh)
/// @notice Token ids carry their origin; see {EnergyTokenId}.
contract EnergyToken is IEnergyToken, ERC1155, AccessControl {
    /// @notice May mint: the market.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    mapping(uint64 interval => uint256 energyWh) private _mintedWh;

    /// @param admin may grant the minter role
    constructor(address admin, string memory uri_) ERC1155(uri_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IEnergyToken
    function mint(address to, uint256 id, uint256 energyWh) external onlyRole(MINTER_ROLE) {
        uint256[] memory ids = new uint256[](1);
        uint256[] memory values = new uint256[](1);
        ids[0] = id;
        values[0] = energyWh;
        // _update, not _mint: no onERC1155Received call, so no receiver can make a claim fail.
        _update(address(0), to, ids, values);
        _mintedWh[EnergyTokenId.intervalOf(id)] += energyWh;
    }

    /// @inheritdoc IEnergyToken
    function tokenIdOf(uint64 interval, uint32 zone, uint8 source, uint32 meterId) public pure returns (uint256) {
        return EnergyTokenId.encode(interval, zone, source, meterId);
    }

    /// @inheritdoc IEnergyToken
    function originOf(uint256 id) external pure returns (Origin memory) {
        return Origin({
            interval: EnergyTokenId.intervalOf(id),
            zone: uint32(id >> 40),
            source: uint8(id >> 32),
            meterId: uint32(id)
        });
    }

    /// @inheritdoc IEnergyToken
    function mintedWh(uint64 interval) external view returns (uint256) {
        return _mintedWh[interval];
    }

    /// @inheritdoc ERC1155
    function supportsInterface(bytes4 interfaceId) public view override(ERC1155, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
