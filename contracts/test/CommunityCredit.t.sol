// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Test} from "./utils/Test.sol";
import {CommunityCredit} from "../src/CommunityCredit.sol";

contract CommunityCreditTest is Test {
    CommunityCredit internal credit;
    address internal alice = vm.addr(0xA1);
    address internal bob = vm.addr(0xB2);
    address internal stranger = vm.addr(0x5754);
    bytes32 internal ISSUER_ROLE;

    function setUp() public {
        credit = new CommunityCredit(address(this));
        ISSUER_ROLE = credit.ISSUER_ROLE();
    }

    function test_constructor_setsMetadataAndRoles() public view {
        vm.assertEq(keccak256(bytes(credit.name())), keccak256("PeerGrid Community Credit"), "name");
        vm.assertEq(keccak256(bytes(credit.symbol())), keccak256("PGC"), "symbol");
        vm.assertEq(credit.decimals(), 6, "decimals");
        vm.assertEq(credit.totalSupply(), 0, "supply");
        vm.assertTrue(credit.hasRole(credit.DEFAULT_ADMIN_ROLE(), address(this)), "admin");
        vm.assertTrue(credit.hasRole(ISSUER_ROLE, address(this)), "issuer");
        vm.assertEq(ISSUER_ROLE, keccak256("ISSUER_ROLE"), "role id");
    }

    function test_mint_issuesCredit() public {
        vm.expectEmit(true, true, true, true, address(credit));
        emit IERC20.Transfer(address(0), alice, 1_500_000);
        credit.mint(alice, 1_500_000);
        vm.assertEq(credit.balanceOf(alice), 1_500_000, "balance");
        vm.assertEq(credit.totalSupply(), 1_500_000, "supply");
    }

    function test_mint_byGrantedIssuer() public {
        credit.grantRole(ISSUER_ROLE, bob);
        vm.prank(bob);
        credit.mint(alice, 1);
        vm.assertEq(credit.balanceOf(alice), 1, "minted by new issuer");
    }

    function test_mint_revertsWrongRole() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, ISSUER_ROLE)
        );
        vm.prank(stranger);
        credit.mint(stranger, 1_000);
        vm.assertEq(credit.totalSupply(), 0, "nothing issued");
    }

    function test_mint_revertsToZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InvalidReceiver.selector, address(0)));
        credit.mint(address(0), 1);
    }

    function test_transfer_movesCredit() public {
        credit.mint(alice, 100);
        vm.prank(alice);
        vm.assertTrue(credit.transfer(bob, 40), "transfer returns true");
        vm.assertEq(credit.balanceOf(alice), 60, "alice");
        vm.assertEq(credit.balanceOf(bob), 40, "bob");
    }

    function test_transfer_revertsInsufficientBalance() public {
        credit.mint(alice, 100);
        vm.prank(alice);
        try credit.transfer(bob, 101) returns (bool) {
            vm.assertTrue(false, "transfer beyond balance succeeded");
        } catch (bytes memory err) {
            vm.assertEq(
                err,
                abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, 100, 101),
                "revert data"
            );
        }
        vm.assertEq(credit.balanceOf(alice), 100, "unchanged");
    }

    function test_transferFrom_spendsAllowance() public {
        credit.mint(alice, 100);
        vm.prank(alice);
        credit.approve(bob, 70);
        vm.prank(bob);
        vm.assertTrue(credit.transferFrom(alice, stranger, 70), "transferFrom returns true");
        vm.assertEq(credit.balanceOf(stranger), 70, "moved");
        vm.assertEq(credit.allowance(alice, bob), 0, "allowance spent");
        vm.prank(bob);
        try credit.transferFrom(alice, stranger, 1) returns (bool) {
            vm.assertTrue(false, "transferFrom beyond allowance succeeded");
        } catch (bytes memory err) {
            vm.assertEq(
                err, abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, bob, 0, 1), "revert data"
            );
        }
    }

    function test_fuzz_mint_supplyIsSumOfBalances(uint128 a, uint128 b) public {
        credit.mint(alice, a);
        credit.mint(bob, b);
        vm.assertEq(credit.totalSupply(), uint256(a) + b, "supply");
        vm.assertEq(credit.balanceOf(alice) + credit.balanceOf(bob), credit.totalSupply(), "sum");
    }
}
