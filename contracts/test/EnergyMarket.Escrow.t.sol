// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {EnergyMarket} from "../src/EnergyMarket.sol";
import {IEnergyMarket} from "../src/interfaces/IEnergyMarket.sol";

/// @dev Keeps 1 % of every transfer: the market must credit only what arrives.
contract FeeOnTransferToken is ERC20 {
    constructor() ERC20("Fee", "FEE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value / 100;
            super._update(from, address(0xFEE), fee);
            value -= fee;
        }
        super._update(from, to, value);
    }
}

/// @notice setStandingOrder, depositFor, withdraw, accountsOf, setTariffs, setGridAccount.
contract EnergyMarketEscrowTest is MarketFixture {
    uint64 internal I;

    function setUp() public {
        _deploy(4);
        I = firstInterval;
    }

    function _order(uint64 ask, uint64 maxSell, uint64 bid, uint64 maxBuy)
        internal
        pure
        returns (IEnergyMarket.StandingOrder memory)
    {
        return IEnergyMarket.StandingOrder({
            askMicroPerKwh: ask, maxSellWh: maxSell, bidMicroPerKwh: bid, maxBuyWh: maxBuy
        });
    }

    function _assertOrder(address account, uint64 ask, uint64 maxSell, uint64 bid, uint64 maxBuy) internal view {
        IEnergyMarket.StandingOrder memory o = _standingOrderOf(account);
        vm.assertEq(o.askMicroPerKwh, ask, "ask");
        vm.assertEq(o.maxSellWh, maxSell, "max sell");
        vm.assertEq(o.bidMicroPerKwh, bid, "bid");
        vm.assertEq(o.maxBuyWh, maxBuy, "max buy");
    }

    // ------------------------------------------------------------------ setStandingOrder

    function test_setStandingOrder_setsSellOrder() public {
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.StandingOrderSet(households[0], 90_000, 2000, 0, 0);
        _setOrder(0, 90_000, 2000, 0, 0);
        _assertOrder(households[0], 90_000, 2000, 0, 0);
    }

    function test_setStandingOrder_setsBuyOrderWithExactEscrow() public {
        _fund(households[1], 200_000); // 1000 Wh at 200_000 per kWh
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.StandingOrderSet(households[1], 0, 0, 200_000, 1000);
        _setOrder(1, 0, 0, 200_000, 1000);
        _assertOrder(households[1], 0, 0, 200_000, 1000);
    }

    function test_setStandingOrder_replacesAndClearsOrder() public {
        _fund(households[1], 1_000_000);
        _setOrder(1, 100_000, 10, 200_000, 1000);
        _setOrder(1, 0, 0, 0, 0);
        _assertOrder(households[1], 0, 0, 0, 0);
    }

    function test_setStandingOrder_requiresEscrowOnlyUpToRetail() public {
        // a bid above retail counts as retail: 1000 Wh need 300_000, not 900_000
        _fund(households[1], 300_000);
        _setOrder(1, 0, 0, 900_000, 1000);
        _assertOrder(households[1], 0, 0, 900_000, 1000);
    }

    function test_setStandingOrder_revertsInsufficientEscrow() public {
        _fund(households[1], 199_999);
        vm.expectRevert(
            abi.encodeWithSelector(IEnergyMarket.InsufficientEscrow.selector, households[1], 200_000, 199_999)
        );
        vm.prank(households[1]);
        market.setStandingOrder(_order(0, 0, 200_000, 1000));
        _assertOrder(households[1], 0, 0, 0, 0);
    }

    function test_setStandingOrder_revertsInsufficientEscrowRoundedUp() public {
        // 1 Wh at 1_001 per kWh costs 1.001: escrow must cover 2
        _fund(households[1], 1);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InsufficientEscrow.selector, households[1], 2, 1));
        vm.prank(households[1]);
        market.setStandingOrder(_order(0, 0, 1001, 1));
    }

    function test_setStandingOrder_revertsInsufficientEscrowWithoutDeposit() public {
        vm.expectRevert(
            abi.encodeWithSelector(IEnergyMarket.InsufficientEscrow.selector, households[2], 300_000, 0)
        );
        vm.prank(households[2]);
        market.setStandingOrder(_order(0, 0, RETAIL, 1000));
    }

    function test_setStandingOrder_revertsInvalidOrderCapWithoutBid() public {
        _fund(households[1], 1_000_000);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidOrder.selector, households[1]));
        vm.prank(households[1]);
        market.setStandingOrder(_order(0, 0, 0, 1000));
        _assertOrder(households[1], 0, 0, 0, 0);
    }

    function test_setStandingOrder_revertsInvalidOrderBidWithoutCap() public {
        _fund(households[1], 1_000_000);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidOrder.selector, households[1]));
        vm.prank(households[1]);
        market.setStandingOrder(_order(0, 0, 200_000, 0));
        _assertOrder(households[1], 0, 0, 0, 0);
    }

    function test_setStandingOrder_revertsInvalidOrderFieldAbove32Bits() public {
        _fund(households[1], 10_000_000);
        uint64 big = uint64(type(uint32).max) + 1;
        IEnergyMarket.StandingOrder[] memory orders = new IEnergyMarket.StandingOrder[](4);
        orders[0] = _order(big, 100, 0, 0);
        orders[1] = _order(100_000, big, 0, 0);
        orders[2] = _order(0, 0, big, 1);
        orders[3] = _order(0, 0, 200_000, big);
        for (uint256 k; k < orders.length; ++k) {
            vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidOrder.selector, households[1]));
            vm.prank(households[1]);
            market.setStandingOrder(orders[k]);
        }
        // far above 32 bits, too: a stored uint32 must never be a truncated price or cap
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidOrder.selector, households[1]));
        vm.prank(households[1]);
        market.setStandingOrder(_order(type(uint64).max, type(uint64).max, 0, 0));
        _assertOrder(households[1], 0, 0, 0, 0);
    }

    function test_setStandingOrder_acceptsFieldsAt32BitMaximum() public {
        uint64 max = type(uint32).max;
        _fund(households[1], 1_288_490_100);
        _setOrder(1, max, max, max, max / 1000); // the bid counts as retail: 4_294_967 Wh need 1_288_490_100
        _assertOrder(households[1], max, max, max, max / 1000);
        IEnergyMarket.Account memory a = _account(households[1]);
        vm.assertEq(a.askMicroPerKwh, max, "stored ask");
        vm.assertEq(a.maxSellWh, max, "stored max sell");
        vm.assertEq(a.bidMicroPerKwh, max, "stored bid");
        vm.assertEq(a.maxBuyWh, max / 1000, "stored max buy");
    }

    function test_setStandingOrder_revertsInsufficientEscrowWhenInDebt() public {
        _warpToWindow(I);
        _submit(1, I, 0, 100); // 30_000 at retail, no escrow
        _warpToClose(I);
        _settle(I);
        vm.assertEq(_gridDebtOf(households[1]), 30_000, "debt");
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InsufficientEscrow.selector, households[1], 3000, 0));
        vm.prank(households[1]);
        market.setStandingOrder(_order(0, 0, 300_000, 10));
        // a sell side needs no escrow, debt or not
        _setOrder(1, FEED_IN, 1000, 0, 0);
        _assertOrder(households[1], FEED_IN, 1000, 0, 0);
    }

    function test_setStandingOrder_revertsNotAnActiveParticipant() public {
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.NotAnActiveParticipant.selector, stranger));
        vm.prank(stranger);
        market.setStandingOrder(_order(100_000, 100, 0, 0));
        _assertOrder(stranger, 0, 0, 0, 0);
    }

    function test_setStandingOrder_revertsForDeactivatedParticipant() public {
        registry.setParticipantActive(households[0], false);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.NotAnActiveParticipant.selector, households[0]));
        vm.prank(households[0]);
        market.setStandingOrder(_order(100_000, 100, 0, 0));
    }

    function test_setStandingOrder_revertsForGridAccount() public {
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.NotAnActiveParticipant.selector, grid));
        vm.prank(grid);
        market.setStandingOrder(_order(100_000, 100, 0, 0));
    }

    function _account(address a) internal view returns (IEnergyMarket.Account memory) {
        address[] memory one = new address[](1);
        one[0] = a;
        return market.accountsOf(one)[0];
    }

    // ------------------------------------------------------------------ accountsOf

    function test_accountsOf_returnsEscrowAndOrderInOneSlot() public {
        _fund(households[1], 500_000);
        _setOrder(1, 90_000, 2000, 250_000, 1500);
        _fund(households[2], 7);
        address[] memory owners = new address[](4);
        owners[0] = households[2];
        owners[1] = stranger;
        owners[2] = households[1];
        owners[3] = grid;
        IEnergyMarket.Account[] memory accounts = market.accountsOf(owners);
        vm.assertEq(accounts.length, 4, "one per owner");
        vm.assertEq(accounts[0].balanceMicro, int256(7), "escrow only");
        vm.assertEq(accounts[0].maxBuyWh, 0, "no order");
        vm.assertEq(accounts[1].balanceMicro, int256(0), "unknown is zero");
        vm.assertEq(accounts[2].balanceMicro, int256(500_000), "balance");
        vm.assertEq(accounts[2].askMicroPerKwh, 90_000, "ask");
        vm.assertEq(accounts[2].maxSellWh, 2000, "max sell");
        vm.assertEq(accounts[2].bidMicroPerKwh, 250_000, "bid");
        vm.assertEq(accounts[2].maxBuyWh, 1500, "max buy");
        vm.assertEq(accounts[3].balanceMicro, int256(GRID_FLOAT), "grid");
        vm.assertEq(market.accountsOf(new address[](0)).length, 0, "empty");
    }

    function test_accountsOf_showsDebtAsNegativeBalance() public {
        _warpToWindow(I);
        _submit(2, I, 0, 10); // 3_000 at retail
        _warpToClose(I);
        _settle(I);
        vm.assertEq(_account(households[2]).balanceMicro, -3000, "negative balance");
        vm.assertEq(market.balanceOf(households[2]), 0, "positive part");
        vm.assertEq(_gridDebtOf(households[2]), 3000, "negative part");
    }

    // ------------------------------------------------------------------ depositFor

    function test_depositFor_creditsEscrowAndHoldsTokens() public {
        credit.mint(households[0], 5_000);
        vm.prank(households[0]);
        credit.approve(address(market), 5_000);
        uint256 held = credit.balanceOf(address(market));
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.Deposited(households[0], households[0], 5_000, 0);
        vm.prank(households[0]);
        market.depositFor(households[0], 5_000);
        vm.assertEq(market.balanceOf(households[0]), 5_000, "escrow");
        vm.assertEq(credit.balanceOf(households[0]), 0, "wallet");
        vm.assertEq(credit.balanceOf(address(market)), held + 5_000, "held");
        vm.assertEq(_ledgerSum(), credit.balanceOf(address(market)), "ledger backed");
    }

    function test_depositFor_thirdPartyPaysForParticipant() public {
        credit.mint(stranger, 7_000);
        vm.prank(stranger);
        credit.approve(address(market), 7_000);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.Deposited(households[2], stranger, 7_000, 0);
        vm.prank(stranger);
        market.depositFor(households[2], 7_000);
        vm.assertEq(market.balanceOf(households[2]), 7_000, "escrow of beneficiary");
        vm.assertEq(market.balanceOf(stranger), 0, "payer gets nothing");
    }

    function test_depositFor_acceptsGridAccount() public {
        uint256 before = market.balanceOf(grid);
        _fundGrid(1234);
        vm.assertEq(market.balanceOf(grid), before + 1234, "grid escrow");
    }

    function test_depositFor_repaysGridDebtFirst() public {
        _warpToWindow(I);
        _submit(1, I, 0, 1000); // 300_000 at retail, no escrow
        _warpToClose(I);
        _settle(I);
        vm.assertEq(_gridDebtOf(households[1]), 300_000, "debt");
        vm.assertEq(_account(households[1]).balanceMicro, -300_000, "debt is a negative balance");
        uint256 gridBefore = market.balanceOf(grid);

        // a partial payment goes entirely to the grid
        credit.mint(households[1], 500_000);
        vm.prank(households[1]);
        credit.approve(address(market), 500_000);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.Deposited(households[1], households[1], 100_000, 100_000);
        vm.prank(households[1]);
        market.depositFor(households[1], 100_000);
        vm.assertEq(_gridDebtOf(households[1]), 200_000, "debt left");
        vm.assertEq(_account(households[1]).balanceMicro, -200_000, "balance still negative");
        vm.assertEq(market.balanceOf(households[1]), 0, "nothing to escrow yet");
        vm.assertEq(market.balanceOf(grid), gridBefore + 100_000, "grid repaid");

        // the next one clears the debt and escrows the rest
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.Deposited(households[1], households[1], 400_000, 200_000);
        vm.prank(households[1]);
        market.depositFor(households[1], 400_000);
        vm.assertEq(_gridDebtOf(households[1]), 0, "debt cleared");
        vm.assertEq(market.balanceOf(households[1]), 200_000, "escrow");
        vm.assertEq(market.balanceOf(grid), gridBefore + 300_000, "grid repaid in full");
        vm.assertEq(_ledgerSum(), credit.balanceOf(address(market)), "ledger backed");
    }

    function test_depositFor_thirdPartyRepaysDebtExactly() public {
        _warpToWindow(I);
        _submit(3, I, 0, 50); // 15_000 at retail
        _warpToClose(I);
        _settle(I);
        uint256 gridBefore = market.balanceOf(grid);
        credit.mint(stranger, 15_000);
        vm.prank(stranger);
        credit.approve(address(market), 15_000);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.Deposited(households[3], stranger, 15_000, 15_000);
        vm.prank(stranger);
        market.depositFor(households[3], 15_000);
        vm.assertEq(_account(households[3]).balanceMicro, 0, "back to zero");
        vm.assertEq(_gridDebtOf(households[3]), 0, "no debt");
        vm.assertEq(market.balanceOf(grid), gridBefore + 15_000, "grid repaid");
        vm.assertEq(_ledgerSum(), credit.balanceOf(address(market)), "ledger backed");
    }

    function test_depositFor_revertsInvalidAmountAtOrAbove2To126() public {
        uint256 tooMuch = uint256(1) << 126;
        credit.mint(households[0], tooMuch);
        vm.prank(households[0]);
        credit.approve(address(market), tooMuch);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidAmount.selector, tooMuch));
        vm.prank(households[0]);
        market.depositFor(households[0], tooMuch);
        // just below is fine
        vm.prank(households[0]);
        market.depositFor(households[0], tooMuch - 1);
        vm.assertEq(market.balanceOf(households[0]), tooMuch - 1, "credited");
    }

    /// @dev Each deposit is below 2^126, but three of them exceed what an int128 balance holds: the market
    /// must refuse the deposit rather than let the balance wrap around into a huge grid debt.
    function test_depositFor_revertsWhenBalanceWouldOverflow() public {
        uint256 chunk = (uint256(1) << 126) - 1;
        credit.mint(households[0], 3 * chunk);
        vm.prank(households[0]);
        credit.approve(address(market), 3 * chunk);
        vm.prank(households[0]);
        market.depositFor(households[0], chunk);
        vm.prank(households[0]);
        market.depositFor(households[0], chunk);
        vm.prank(households[0]);
        try market.depositFor(households[0], chunk) {} catch {}
        vm.assertEq(_gridDebtOf(households[0]), 0, "a deposit created grid debt");
        vm.assertGe(market.balanceOf(households[0]), 2 * chunk, "a deposit lowered the balance");
        vm.assertEq(_ledgerSum(), credit.balanceOf(address(market)), "ledger backed");
    }

    function test_depositFor_revertsZeroAmount() public {
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidAmount.selector, 0));
        vm.prank(households[0]);
        market.depositFor(households[0], 0);
    }

    function test_depositFor_revertsNonParticipant() public {
        credit.mint(stranger, 1000);
        vm.prank(stranger);
        credit.approve(address(market), 1000);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.NotAnActiveParticipant.selector, stranger));
        vm.prank(stranger);
        market.depositFor(stranger, 1000);
        vm.assertEq(credit.balanceOf(stranger), 1000, "tokens stay with the payer");
        vm.assertEq(market.balanceOf(stranger), 0, "no escrow");
    }

    function test_depositFor_acceptsDeactivatedParticipantSoItCanRepayDebt() public {
        registry.setParticipantActive(households[3], false);
        credit.mint(households[3], 1000);
        vm.prank(households[3]);
        credit.approve(address(market), 1000);
        vm.prank(households[3]);
        market.depositFor(households[3], 1000);
        vm.assertEq(market.balanceOf(households[3]), 1000, "credited");
    }

    function test_depositFor_revertsWithoutAllowance() public {
        credit.mint(households[0], 1000);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(market), 0, 1000)
        );
        vm.prank(households[0]);
        market.depositFor(households[0], 1000);
    }

    function test_depositFor_creditsOnlyWhatArrives() public {
        FeeOnTransferToken fee = new FeeOnTransferToken();
        EnergyMarket feeMarket = new EnergyMarket(
            registry, energyToken, fee, agreements, grid, INTERVAL_SECONDS, WINDOW_SECONDS, firstInterval,
            IEnergyMarket.Tariffs({feedInMicroPerKwh: FEED_IN, retailMicroPerKwh: RETAIL})
        );
        fee.mint(households[0], 10_000);
        vm.prank(households[0]);
        fee.approve(address(feeMarket), 10_000);
        vm.expectEmit(true, true, true, true, address(feeMarket));
        emit IEnergyMarket.Deposited(households[0], households[0], 9_900, 0);
        vm.prank(households[0]);
        feeMarket.depositFor(households[0], 10_000);
        vm.assertEq(feeMarket.balanceOf(households[0]), 9_900, "credited what arrived");
        vm.assertEq(fee.balanceOf(address(feeMarket)), 9_900, "held");
    }

    // ------------------------------------------------------------------ withdraw

    function test_withdraw_paysOutAndEmits() public {
        _fund(households[0], 10_000);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.Withdrawn(households[0], 4_000);
        vm.prank(households[0]);
        market.withdraw(4_000);
        vm.assertEq(market.balanceOf(households[0]), 6_000, "escrow");
        vm.assertEq(credit.balanceOf(households[0]), 4_000, "wallet");
        vm.assertEq(_ledgerSum(), credit.balanceOf(address(market)), "ledger backed");
    }

    function test_withdraw_allowsEverything() public {
        _fund(households[0], 10_000);
        vm.prank(households[0]);
        market.withdraw(10_000);
        vm.assertEq(market.balanceOf(households[0]), 0, "empty");
    }

    function test_withdraw_worksForDeactivatedParticipant() public {
        _fund(households[0], 10_000);
        registry.setParticipantActive(households[0], false);
        vm.prank(households[0]);
        market.withdraw(10_000);
        vm.assertEq(credit.balanceOf(households[0]), 10_000, "funds never locked in");
    }

    function test_withdraw_revertsZeroAmount() public {
        _fund(households[0], 10_000);
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidAmount.selector, 0));
        vm.prank(households[0]);
        market.withdraw(0);
    }

    function test_withdraw_revertsInsufficientEscrow() public {
        _fund(households[0], 10_000);
        vm.expectRevert(
            abi.encodeWithSelector(IEnergyMarket.InsufficientEscrow.selector, households[0], 10_001, 10_000)
        );
        vm.prank(households[0]);
        market.withdraw(10_001);
        vm.assertEq(market.balanceOf(households[0]), 10_000, "escrow unchanged");
        vm.assertEq(credit.balanceOf(households[0]), 0, "wallet unchanged");
    }

    function test_withdraw_revertsForStranger() public {
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InsufficientEscrow.selector, stranger, 1, 0));
        vm.prank(stranger);
        market.withdraw(1);
    }

    // ------------------------------------------------------------------ setTariffs

    function test_setTariffs_setsAndEmits() public {
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.TariffsChanged(70_000, 280_000);
        vm.prank(grid);
        market.setTariffs(IEnergyMarket.Tariffs({feedInMicroPerKwh: 70_000, retailMicroPerKwh: 280_000}));
        (uint64 feedIn, uint64 retail) = market.tariffs();
        vm.assertEq(feedIn, 70_000, "feed-in");
        vm.assertEq(retail, 280_000, "retail");
    }

    function test_setTariffs_acceptsEqualTariffs() public {
        vm.prank(grid);
        market.setTariffs(IEnergyMarket.Tariffs({feedInMicroPerKwh: 100_000, retailMicroPerKwh: 100_000}));
        (uint64 feedIn, uint64 retail) = market.tariffs();
        vm.assertEq(feedIn, retail, "equal");
    }

    function test_setTariffs_revertsZeroFeedIn() public {
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidTariffs.selector, 0, 280_000));
        vm.prank(grid);
        market.setTariffs(IEnergyMarket.Tariffs({feedInMicroPerKwh: 0, retailMicroPerKwh: 280_000}));
        (uint64 feedIn,) = market.tariffs();
        vm.assertEq(feedIn, FEED_IN, "unchanged");
    }

    function test_setTariffs_revertsFeedInAboveRetail() public {
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidTariffs.selector, 300_001, 300_000));
        vm.prank(grid);
        market.setTariffs(IEnergyMarket.Tariffs({feedInMicroPerKwh: 300_001, retailMicroPerKwh: 300_000}));
        (uint64 feedIn, uint64 retail) = market.tariffs();
        vm.assertEq(feedIn, FEED_IN, "feed-in unchanged");
        vm.assertEq(retail, RETAIL, "retail unchanged");
    }

    /// @dev IEnergyMarket.InvalidTariffs: the retail price "must fit in 32 bits" (bids are stored in 32 bits,
    /// and a bid is clamped down to retail).
    function test_setTariffs_revertsRetailAbove32Bits() public {
        uint64 retail = uint64(type(uint32).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(IEnergyMarket.InvalidTariffs.selector, FEED_IN, retail));
        vm.prank(grid);
        market.setTariffs(IEnergyMarket.Tariffs({feedInMicroPerKwh: FEED_IN, retailMicroPerKwh: retail}));
        (, uint64 stored) = market.tariffs();
        vm.assertEq(stored, RETAIL, "unchanged");
        // the 32-bit maximum itself is fine
        vm.prank(grid);
        market.setTariffs(IEnergyMarket.Tariffs({feedInMicroPerKwh: FEED_IN, retailMicroPerKwh: type(uint32).max}));
    }

    function test_setTariffs_revertsWrongRole() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, GRID_OPERATOR_ROLE)
        );
        vm.prank(stranger);
        market.setTariffs(IEnergyMarket.Tariffs({feedInMicroPerKwh: 1, retailMicroPerKwh: 2}));
        // tariffs are the grid operator's: the community operator may not set them
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, address(this), GRID_OPERATOR_ROLE)
        );
        market.setTariffs(IEnergyMarket.Tariffs({feedInMicroPerKwh: 1, retailMicroPerKwh: 2}));
        (uint64 feedIn,) = market.tariffs();
        vm.assertEq(feedIn, FEED_IN, "unchanged");
    }

    // ------------------------------------------------------------------ setGridAccount

    function test_setGridAccount_setsAndEmits() public {
        address newGrid = vm.addr(0x6121D2);
        registry.grantRole(GRID_OPERATOR_ROLE, newGrid);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.GridAccountChanged(newGrid);
        market.setGridAccount(newGrid);
        vm.assertEq(market.gridAccount(), newGrid, "grid account");
        // the old grid account keeps its escrow and can withdraw it
        vm.prank(grid);
        market.withdraw(GRID_FLOAT);
        // the new one may receive deposits without being a participant
        _fund(newGrid, 1000);
        vm.assertEq(market.balanceOf(newGrid), 1000, "new grid escrow");
    }

    function test_setGridAccount_revertsWithoutGridOperatorRole() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, GRID_OPERATOR_ROLE)
        );
        market.setGridAccount(stranger);
        vm.assertEq(market.gridAccount(), grid, "unchanged");
    }

    function test_setGridAccount_revertsWrongRole() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, grid, OPERATOR_ROLE)
        );
        vm.prank(grid);
        market.setGridAccount(grid);
    }
}
