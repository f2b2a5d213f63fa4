// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {Test} from "./utils/Test.sol";
import {EnergyToken} from "../src/EnergyToken.sol";
import {IEnergyToken} from "../src/interfaces/IEnergyToken.sol";
import {EnergyTokenId} from "../src/libraries/EnergyTokenId.sol";

/// @dev Refuses every ERC-1155 transfer: minting to it must still work (no receiver hook).
contract RefusingReceiver {
    function onERC1155Received(address, address, uint256, uint256, bytes calldata) external pure returns (bytes4) {
        revert("no thanks");
    }
}

contract EnergyTokenTest is Test {
    EnergyToken internal token;
    address internal minter = vm.addr(0x313);
    address internal alice = vm.addr(0xA1);
    address internal stranger = vm.addr(0x5754);
    bytes32 internal MINTER_ROLE;

    function setUp() public {
        token = new EnergyToken(address(this), "ipfs://energy/{id}");
        MINTER_ROLE = token.MINTER_ROLE();
        token.grantRole(MINTER_ROLE, minter);
    }

    function test_constructor_setsAdminAndUri() public view {
        vm.assertTrue(token.hasRole(token.DEFAULT_ADMIN_ROLE(), address(this)), "admin");
        vm.assertFalse(token.hasRole(MINTER_ROLE, address(this)), "admin is no minter");
        vm.assertEq(keccak256(bytes(token.uri(1))), keccak256("ipfs://energy/{id}"), "uri");
        vm.assertEq(MINTER_ROLE, keccak256("MINTER_ROLE"), "role id");
    }

    function test_mint_mintsAndCountsPerInterval() public {
        uint256 id = token.tokenIdOf(42, 3, 1, 7);
        vm.expectEmit(true, true, true, true, address(token));
        emit IERC1155.TransferSingle(minter, address(0), alice, id, 500);
        vm.prank(minter);
        token.mint(alice, id, 500);
        uint256 other = token.tokenIdOf(42, 9, 2, 8);
        uint256 later = token.tokenIdOf(43, 3, 1, 7);
        vm.prank(minter);
        token.mint(alice, other, 250);
        vm.prank(minter);
        token.mint(alice, later, 1);
        vm.assertEq(token.balanceOf(alice, id), 500, "balance");
        vm.assertEq(token.mintedWh(42), 750, "interval 42");
        vm.assertEq(token.mintedWh(43), 1, "interval 43");
        vm.assertEq(token.mintedWh(41), 0, "interval 41");
    }

    function test_mint_skipsReceiverHook() public {
        RefusingReceiver receiver = new RefusingReceiver();
        uint256 id = token.tokenIdOf(1, 1, 1, 1);
        vm.prank(minter);
        token.mint(address(receiver), id, 10);
        vm.assertEq(token.balanceOf(address(receiver), id), 10, "minted to refusing contract");
    }

    function test_mint_revertsWrongRole() public {
        uint256 id = token.tokenIdOf(1, 1, 1, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, MINTER_ROLE)
        );
        vm.prank(stranger);
        token.mint(alice, id, 10);
        // the admin must grant itself the role first
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, address(this), MINTER_ROLE)
        );
        token.mint(alice, id, 10);
        vm.assertEq(token.mintedWh(1), 0, "nothing minted");
        vm.assertEq(token.balanceOf(alice, id), 0, "no balance");
    }

    function test_mint_revertsAfterRoleRevoked() public {
        token.revokeRole(MINTER_ROLE, minter);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, minter, MINTER_ROLE)
        );
        vm.prank(minter);
        token.mint(alice, 1, 1);
    }

    function test_tokenIdOf_hasDocumentedLayout() public view {
        uint256 id = token.tokenIdOf(0x0102030405060708, 0x0A0B0C0D, 0x0E, 0x10111213);
        vm.assertEq(id, 0x0102030405060708_0A0B0C0D_0E_10111213, "interval | zone | source | meter");
    }

    function test_fuzz_tokenIdOf_originOfRoundTrip(uint64 interval, uint32 zone, uint8 source, uint32 meterId)
        public
        view
    {
        uint256 id = token.tokenIdOf(interval, zone, source, meterId);
        IEnergyToken.Origin memory o = token.originOf(id);
        vm.assertEq(o.interval, interval, "interval");
        vm.assertEq(o.zone, zone, "zone");
        vm.assertEq(o.source, source, "source");
        vm.assertEq(o.meterId, meterId, "meter");
        vm.assertLt(id, 1 << 136, "fits in 136 bits");
    }

    function test_fuzz_tokenIdOf_isInjective(uint64 i1, uint32 z1, uint8 s1, uint32 m1, uint64 i2, uint32 z2, uint8 s2, uint32 m2)
        public
        view
    {
        vm.assume(i1 != i2 || z1 != z2 || s1 != s2 || m1 != m2);
        vm.assertTrue(token.tokenIdOf(i1, z1, s1, m1) != token.tokenIdOf(i2, z2, s2, m2), "distinct ids");
    }

    function test_fuzz_mint_countsMintedWhPerInterval(uint64 interval, uint32 meterId, uint128 a, uint128 b) public {
        uint256 id = token.tokenIdOf(interval, 1, 1, meterId);
        vm.startPrank(minter);
        token.mint(alice, id, a);
        token.mint(stranger, id, b);
        vm.stopPrank();
        vm.assertEq(token.mintedWh(interval), uint256(a) + b, "minted");
        vm.assertEq(token.balanceOf(alice, id), a, "alice");
    }

    function test_fuzz_pooled_isTheIdWithMeterZero(uint64 interval, uint32 zone, uint8 source, uint32 meterId)
        public
        view
    {
        uint256 id = token.tokenIdOf(interval, zone, source, meterId);
        uint256 pool = EnergyTokenId.pooled(id);
        vm.assertEq(pool, token.tokenIdOf(interval, zone, source, 0), "meter id cleared");
        vm.assertEq(EnergyTokenId.pooled(pool), pool, "idempotent");
        vm.assertEq(EnergyTokenId.intervalOf(pool), interval, "same interval");
        IEnergyToken.Origin memory o = token.originOf(pool);
        vm.assertEq(o.zone, zone, "same zone");
        vm.assertEq(o.source, source, "same source");
        vm.assertEq(o.meterId, 0, "no meter");
    }

    function test_mint_countsPooledMintsInTheirInterval() public {
        uint256 pool = EnergyTokenId.pooled(token.tokenIdOf(42, 3, 1, 7));
        vm.prank(minter);
        token.mint(alice, pool, 300);
        vm.assertEq(token.mintedWh(42), 300, "interval 42");
        vm.assertEq(token.balanceOf(alice, token.tokenIdOf(42, 3, 1, 0)), 300, "pool balance");
    }

    function test_supportsInterface_erc1155AndAccessControl() public view {
        vm.assertTrue(token.supportsInterface(type(IERC1155).interfaceId), "ERC-1155");
        vm.assertTrue(token.supportsInterface(type(IAccessControl).interfaceId), "AccessControl");
        vm.assertTrue(token.supportsInterface(0x01ffc9a7), "ERC-165");
        vm.assertFalse(token.supportsInterface(0xffffffff), "invalid id");
    }
}
