// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title Community credit: the default settlement token (6 decimals, 1 unit = 1 micro-credit).
/// @notice The market accepts any ERC-20; this one exists so a pilot can start without a stablecoin.
contract CommunityCredit is ERC20, AccessControl {
    /// @notice May issue credit (the community operator).
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");

    /// @param admin receives the admin and issuer roles
    constructor(address admin) ERC20("PeerGrid Community Credit", "PGC") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ISSUER_ROLE, admin);
    }

    /// @notice Issues `amount` credit to `to`. Issuer only.
    function mint(address to, uint256 amount) external onlyRole(ISSUER_ROLE) {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }
}
