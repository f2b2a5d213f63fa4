// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {IEnergyMarket} from "../src/interfaces/IEnergyMarket.sol";

/// @notice Grid zones (market splitting, docs/architecture.md "Grid zones"): setZoneLimits / zoneLimitsOf,
/// and settlements whose clearings are computed by hand from the zonal rule (the fixture's reference
/// clearing assumes every zone unlimited and free, so it is only used here where no limit binds).
///
/// Households 0..5 own meters 1..6; household i is in zone 1 + i % 3 (0, 3: zone 1; 1, 4: zone 2;
/// 2, 5: zone 3). Tariffs: feed-in 80_000, retail 300_000. Notation as in the doc: for zone z at price x,
/// A_z(x) = S<_z(x) - D_z(x), B_z(x) = S_z(x) - D>_z(x); lo_z, hi_z, L, H, pi, e_z, p_z.
///
/// Books:
/// - E ("export"): zone 1: meter 1 sells 1000 Wh at ask 100_000, meter 4 buys 300 Wh at bid 120_000;
///   zone 2: meter 2 buys 1000 Wh at bid 200_000. Unlimited, this clears at 160_000 with 1000 Wh
///   flowing from zone 1 to zone 2. Zone 1's export capacity is varied.
/// - X ("three zones"): zone 1: meter 1 sells 1000 at 100_000 (export cap 400); zone 2: meter 2 buys
///   1000 at 250_000 (import cap 600); zone 3: meter 3 sells 500 at 150_000 (unlimited).
/// - F ("fee"): zone 1: meter 1 sells 601 at 100_000, meter 4 sells 399 at 110_000; zone 2: meter 2
///   buys 1500 at 200_000, meter 5 sells 200 at 90_000; zone 2's import fee 12_345.
contract EnergyMarketZonesTest is MarketFixture {
    uint64 internal constant UNLIMITED = type(uint64).max;
    uint256 internal constant FUNDS = 1_000_000;

    uint64 internal I;

    function setUp() public {
        _deploy(6);
        I = firstInterval;
    }

    // ------------------------------------------------------------------ helpers

    function _setLimits(uint16 zone, uint64 importCapWh, uint64 exportCapWh, uint32 feeMicroPerKwh) internal {
        vm.prank(grid);
        market.setZoneLimits(zone, IEnergyMarket.ZoneLimits(importCapWh, exportCapWh, feeMicroPerKwh));
    }

    function _assertLimits(uint16 zone, uint64 importCapWh, uint64 exportCapWh, uint32 feeMicroPerKwh) internal view {
        IEnergyMarket.ZoneLimits memory l = market.zoneLimitsOf(zone);
        vm.assertEq(l.importCapWh, importCapWh, "import cap");
        vm.assertEq(l.exportCapWh, exportCapWh, "export cap");
        vm.assertEq(l.feeMicroPerKwh, feeMicroPerKwh, "fee");
    }

    /// @dev A zone of a clearing, its price the midpoint of its bounds.
    function _zone(uint16 zone, int64 netExportWh, uint64 low, uint64 high)
        internal
        pure
        returns (IEnergyMarket.ZoneClearing memory)
    {
        return IEnergyMarket.ZoneClearing(zone, netExportWh, low, high, (low + high) / 2);
    }

    function _zones(IEnergyMarket.ZoneClearing memory a, IEnergyMarket.ZoneClearing memory b)
        internal
        pure
        returns (IEnergyMarket.ZoneClearing[] memory zs)
    {
        zs = new IEnergyMarket.ZoneClearing[](2);
        (zs[0], zs[1]) = (a, b);
    }

    function _zones(
        IEnergyMarket.ZoneClearing memory a,
        IEnergyMarket.ZoneClearing memory b,
        IEnergyMarket.ZoneClearing memory c
    ) internal pure returns (IEnergyMarket.ZoneClearing[] memory zs) {
        zs = new IEnergyMarket.ZoneClearing[](3);
        (zs[0], zs[1], zs[2]) = (a, b, c);
    }

    /// @dev A clearing of I written by hand (see MarketFixture._handClearing), with the zones given.
    function _handClearing(
        uint64 hubLow,
        uint64 hubHigh,
        IEnergyMarket.ZoneClearing[] memory zones,
        uint64[2][] memory fills
    ) internal view returns (Clearing memory c) {
        c = _handClearing(I, hubLow, hubHigh, fills);
        c.zones = zones;
    }

    function _expectZoneCleared(uint16 zone, int64 netExportWh, uint64 price, bool capacityBound) internal {
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.ZoneCleared(I, zone, netExportWh, price, capacityBound);
    }

    function _settleWith(Clearing memory c) internal {
        market.settleInterval(I, c.prices, c.zones, c.entries);
    }

    /// @dev Expects `c` to revert with `err` and leave every balance, the root and the next interval alone.
    function _expectSettleRevert(Clearing memory c, bytes memory err) internal {
        _expectSettleRevertAt(I, c, err);
        vm.assertEq(market.nextIntervalToSettle(), I, "interval still to settle");
    }

    // ------------------------------------------------------------------ scenarios

    /// @dev Book E. Limits are set after the readings: they apply to what is settled from then on.
    function _scenarioE(uint64 zone1ImportCap, uint64 zone1ExportCap) internal {
        _fund(households[1], FUNDS);
        _fund(households[3], FUNDS);
        _setOrder(0, 100_000, 1000, 0, 0);
        _setOrder(1, 0, 0, 200_000, 1000);
        _setOrder(3, 0, 0, 120_000, 300);
        _warpToWindow(I);
        _submit(0, I, 1000, 0); // meter 1, zone 1: entry 0
        _submit(1, I, 0, 1000); // meter 2, zone 2: entry 1
        _submit(3, I, 0, 300); // meter 4, zone 1: entry 2
        _warpToClose(I);
        _setLimits(1, zone1ImportCap, zone1ExportCap, 0);
    }

    /// @dev Book E with zone 1's export capped at 700 Wh (of the 1000 Wh that would flow).
    ///
    /// Zone 1: A_1(x) = -300 (x <= 100k), 700 (100k < x <= 120k), 1000 (x > 120k);
    ///         B_1(x) = -300 (x < 100k), 700 (100k <= x < 120k), 1000 (x >= 120k).
    /// Zone 2: A_2(x) = -1000 (x <= 200k), 0 above; B_2(x) = -1000 (x < 200k), 0 from 200k.
    /// lo_1 = -300 (x <= 100k), min(A_1, 700) = 700 above; hi_1 = -300 (x < 100k), 700 from 100k.
    /// lo_2 = A_2, hi_2 = B_2 (unlimited, free).
    /// L(x) = -1300 (x <= 100k), -300 (100k < x <= 200k), 700 above;
    /// H(x) = -1300 (x < 100k), -300 (100k <= x < 200k), 700 from 200k.
    /// L <= 0 <= H only at 200_000: low = high = pi = 200_000 (L(low) = -300 < 0, H(high) = 700 > 0).
    /// Flows at pi: lo_1 = hi_1 = 700 (no slack); lo_2 = -1000, hi_2 = 0, m_2 = S_2 - D_2 = -1000, so
    /// sigma_2 = 0, beta_2 = 1000. short = -L(pi) = 300 > sum sigma = 0:
    /// e_1 = 700, e_2 = -1000 + floor(1000 * 300 / 1000) = -700.
    /// Zone 1: e_1 = 700 < A_1(pi) = 1000, so a capacity binds: window [80k, 300k]. A_1(x) <= 700 for
    ///   x <= 120k and B_1(x) >= 700 for x >= 100k: [low_1, high_1] = [100k, 120k], p_1 = 110_000 < pi.
    /// Zone 2: e_2 = -700 <= B_2(pi) = 0: window [pi, pi], p_2 = 200_000 (A_2 = -1000 <= -700 <= 0).
    /// Fills: zone 1 at 110k: V = min(S_1 = 1000, D_1 + e_1 = 300 + 700) = 1000: meter 1 sells 1000,
    ///   meter 4 buys 1000 - 700 = 300. Zone 2 at 200k: buyers tied, V = 0, meter 2 buys 0 + 700 = 700.
    function _clearingE700() internal view returns (Clearing memory) {
        return _handClearing(
            200_000,
            200_000,
            _zones(_zone(1, 700, 100_000, 120_000), _zone(2, -700, 200_000, 200_000)),
            _fills([uint64(1000), 0], [uint64(0), 700], [uint64(0), 300])
        );
    }

    /// @dev Book X: zone 1 export cap 400, zone 2 import cap 600, zone 3 unlimited.
    function _scenarioX() internal {
        _fund(households[1], FUNDS);
        _setOrder(0, 100_000, 1000, 0, 0);
        _setOrder(1, 0, 0, 250_000, 1000);
        _setOrder(2, 150_000, 500, 0, 0);
        _warpToWindow(I);
        _submit(0, I, 1000, 0); // meter 1, zone 1: entry 0
        _submit(1, I, 0, 1000); // meter 2, zone 2: entry 1
        _submit(2, I, 500, 0); // meter 3, zone 3: entry 2
        _warpToClose(I);
        _setLimits(1, UNLIMITED, 400, 0);
        _setLimits(2, 600, UNLIMITED, 0);
    }

    /// @dev Book X by hand.
    /// lo_1 = hi_1 = 0 below 100k, 400 above (A_1 = B_1 = 1000 capped at 400).
    /// lo_2 = max(A_2, -600) = -600 up to 250k, 0 above; hi_2 = -600 below 250k, 0 from 250k.
    /// lo_3 = A_3 = 500 above 150k, else 0; hi_3 = B_3 = 500 from 150k, else 0.
    /// L(x) = -600 (x <= 100k), -200 (100k < x <= 150k), 300 (150k < x <= 250k), 900 above;
    /// H(x) = -600 (x < 100k), -200 (100k <= x < 150k), 300 (150k <= x < 250k), 900 from 250k.
    /// Only 150_000 has L <= 0 <= H: pi = 150_000 (L(pi) = -200 < 0, H(pi) = 300 > 0).
    /// Flows: zones 1 and 2 have lo = hi (400, -600); zone 3: lo = 0, hi = 500, m_3 = S_3 - D_3 = 500,
    /// sigma_3 = 500. short = 200 <= 500: e_3 = 0 + floor(500 * 200 / 500) = 200. e = (400, -600, 200).
    /// Zone 1: 400 < A_1(pi) = 1000, window [80k, 300k]; A_1(x) <= 400 needs x <= 100k, B_1(x) >= 400
    ///   needs x >= 100k: p_1 = 100_000 < pi (bound). Zone 2: -600 > B_2(pi) = -1000, window [80k, 300k];
    ///   B_2(x) >= -600 needs x >= 250k, A_2(x) <= -600 needs x <= 250k: p_2 = 250_000 > pi (bound).
    /// Zone 3: 200 >= A_3(pi) = 0, window [pi, pi]: p_3 = 150_000 (not bound).
    /// Fills: zone 1 at 100k: V = min(1000, 0 + 400) = 400, meter 1 (tied) sells 400. Zone 2 at 250k:
    ///   V = 0, meter 2 (tied) buys 600. Zone 3 at 150k: V = min(500, 0 + 200), meter 3 (tied) sells 200.
    function _clearingX() internal view returns (Clearing memory) {
        return _handClearing(
            150_000,
            150_000,
            _zones(_zone(1, 400, 100_000, 100_000), _zone(2, -600, 250_000, 250_000), _zone(3, 200, 150_000, 150_000)),
            _fills([uint64(400), 0], [uint64(0), 600], [uint64(200), 0])
        );
    }

    /// @dev Book F; `zone1Fee` is a fee on zone 1, which exports (so it must not matter).
    function _scenarioF(uint32 zone1Fee) internal {
        _fund(households[1], FUNDS);
        _setOrder(0, 100_000, 601, 0, 0);
        _setOrder(1, 0, 0, 200_000, 1500);
        _setOrder(3, 110_000, 399, 0, 0);
        _setOrder(4, 90_000, 200, 0, 0);
        _warpToWindow(I);
        _submit(0, I, 601, 0); // meter 1, zone 1: entry 0
        _submit(1, I, 0, 1500); // meter 2, zone 2: entry 1
        _submit(3, I, 399, 0); // meter 4, zone 1: entry 2
        _submit(4, I, 200, 0); // meter 5, zone 2: entry 3
        _warpToClose(I);
        _setLimits(2, UNLIMITED, UNLIMITED, 12_345);
        if (zone1Fee != 0) _setLimits(1, UNLIMITED, UNLIMITED, zone1Fee);
    }

    /// @dev Book F by hand (f_2 = 12_345).
    /// Zone 1: A_1 = S<_1 = 0 (x <= 100k), 601 (100k < x <= 110k), 1000 above; B_1 = S_1 likewise from
    ///   the asks. lo_1 = A_1, hi_1 = B_1 (no demand, unlimited).
    /// Zone 2: A_2(x) = 200 - 1500 = -1300 for 90k < x <= 200k, 200 above; B_2(x) = -1300 for
    ///   90k <= x < 200k, 200 from 200k. lo_2(x) = min(A_2(x + f), 0) (x <= 200k), hi_2(x) = B_2(x + f)
    ///   while that is < 0, else max(B_2(x), 0) = 0.
    /// For 110k < x: L = 1000 + lo_2, H = 1000 + hi_2. x + f <= 200k: lo_2 = -1300, L = -300 <= 0;
    ///   x + f < 200k: hi_2 = -1300, H = -300 < 0. x + f >= 200k: hi_2 = 0, H = 1000 >= 0;
    ///   x + f > 200k: lo_2 = 0, L = 1000 > 0. So the only hub equilibrium is x = 200_000 - f:
    ///   pi = 187_655 (L(pi) = -300 < 0, H(pi) = 1000 > 0).
    /// Flows: lo_1 = hi_1 = 1000; lo_2 = -1300, hi_2 = 0, m_2 = S_2(pi + f) - D_2(pi + f) = 200 - 1500
    ///   = -1300: sigma_2 = 0, beta_2 = 1300. short = 300 > 0: e_2 = -1300 + floor(1300 * 300 / 1300)
    ///   = -1000, e_1 = 1000.
    /// Zone 1: 1000 >= A_1(pi) = 1000: window [pi, pi], p_1 = 187_655 (the hub).
    /// Zone 2: -1000 <= B_2(pi + f) = 200: window [pi + f, pi + f], p_2 = 200_000 = hub + fee.
    /// Fills: zone 1: both asks below p_1, both sell fully (601, 399). Zone 2 at 200k: S = 200,
    ///   D + e = 1500 - 1000 = 500 > 200, buyers tied: meter 5 sells 200, meter 2 buys 200 + 1000 = 1200.
    function _clearingF() internal view returns (Clearing memory) {
        return _handClearing(
            187_655,
            187_655,
            _zones(_zone(1, 1000, 187_655, 187_655), _zone(2, -1000, 200_000, 200_000)),
            _fills([uint64(601), 0], [uint64(0), 1200], [uint64(399), 0], [uint64(200), 0])
        );
    }

    // ------------------------------------------------------------------ setZoneLimits / zoneLimitsOf

    function test_setZoneLimits_revertsForCallersWithoutGridOperatorRole() public {
        IEnergyMarket.ZoneLimits memory l = IEnergyMarket.ZoneLimits(100, 200, 5000);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, GRID_OPERATOR_ROLE)
        );
        market.setZoneLimits(1, l);
        // the registry operator (this contract) is not a grid operator either
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, address(this), GRID_OPERATOR_ROLE
            )
        );
        market.setZoneLimits(1, l);
        vm.prank(households[0]);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, households[0], GRID_OPERATOR_ROLE
            )
        );
        market.setZoneLimits(1, l);
        _assertLimits(1, UNLIMITED, UNLIMITED, 0);
    }

    function test_setZoneLimits_revertsAfterRoleRevoked() public {
        address op = vm.addr(0x20E0);
        registry.grantRole(GRID_OPERATOR_ROLE, op);
        vm.prank(op);
        market.setZoneLimits(2, IEnergyMarket.ZoneLimits(1, 2, 3));
        registry.revokeRole(GRID_OPERATOR_ROLE, op);
        vm.prank(op);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, op, GRID_OPERATOR_ROLE)
        );
        market.setZoneLimits(2, IEnergyMarket.ZoneLimits(4, 5, 6));
        _assertLimits(2, 1, 2, 3);
    }

    function test_setZoneLimits_gridOperatorSetsLimitsAndEmits() public {
        address op = vm.addr(0x20E0);
        registry.grantRole(GRID_OPERATOR_ROLE, op); // the fixture is the registry admin
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.ZoneLimitsSet(2, 500, 700, 12_345);
        vm.prank(op);
        market.setZoneLimits(2, IEnergyMarket.ZoneLimits(500, 700, 12_345));
        _assertLimits(2, 500, 700, 12_345);
        // other zones stay unlimited and free
        _assertLimits(1, UNLIMITED, UNLIMITED, 0);
        _assertLimits(3, UNLIMITED, UNLIMITED, 0);

        // the grid account holds the role too; a second call overwrites
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.ZoneLimitsSet(2, UNLIMITED, 0, 0);
        vm.prank(grid);
        market.setZoneLimits(2, IEnergyMarket.ZoneLimits(UNLIMITED, 0, 0));
        _assertLimits(2, UNLIMITED, 0, 0);
    }

    function test_zoneLimitsOf_unlimitedAndFreeWhenNeverSet() public view {
        _assertLimits(0, UNLIMITED, UNLIMITED, 0);
        _assertLimits(1, UNLIMITED, UNLIMITED, 0);
        _assertLimits(7, UNLIMITED, UNLIMITED, 0);
        _assertLimits(type(uint16).max, UNLIMITED, UNLIMITED, 0);
    }

    function test_zoneLimitsOf_zeroLimitsAreNotUnlimited() public {
        // a zone set to all zeros is islanded and free, not "never configured"
        _setLimits(3, 0, 0, 0);
        _assertLimits(3, 0, 0, 0);
    }

    // ------------------------------------------------------------------ binding capacity

    function test_settleInterval_bindingExportCapSplitsExporterBelowHub() public {
        _scenarioE(UNLIMITED, 700);
        Clearing memory c = _clearingE700();
        vm.assertEq(c.prices.priceMicroPerKwh, 200_000, "hub price");
        vm.assertEq(c.zones[0].priceMicroPerKwh, 110_000, "zone 1 price: midpoint of [100k, 120k]");
        uint256 ledgerBefore = _ledgerSum();
        int256 gridBefore = _balance(grid);

        // Trades: inside zone 1, meter 1 -> meter 4, 300 Wh at 110k: 33_000 each way. Across, meter 1 ->
        // meter 2, 700 Wh: seller gets 700 * 110_000 / 1000 = 77_000, buyer pays 700 * 200_000 / 1000 =
        // 140_000; congestion rent 63_000 = 700 Wh * (200_000 - 110_000) / 1000.
        // Grid: meter 2's unmet 300 Wh at retail = 90_000; nothing unsold.
        bytes32 root = _energyRoot(I, c);
        _expectZoneCleared(1, 700, 110_000, true);
        _expectZoneCleared(2, -700, 200_000, false);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.IntervalSettled(I, 200_000, 1000, 0, 300, 2, 63_000, root);
        _settleWith(c);

        vm.assertEq(market.nextIntervalToSettle(), I + 1, "settled");
        vm.assertEq(_balance(households[0]), 33_000 + 77_000, "exporter paid at its zone's price");
        vm.assertEq(_balance(households[3]), int256(FUNDS) - 33_000, "local buyer pays its zone's price");
        vm.assertEq(_balance(households[1]), int256(FUNDS) - 140_000 - 90_000, "importer pays its zone's price");
        vm.assertEq(_balance(grid), gridBefore + 63_000 + 90_000, "grid: rent plus retail");
        vm.assertEq(_ledgerSum(), ledgerBefore, "settlement creates and loses nothing");
        vm.assertEq(_ledgerSum(), credit.balanceOf(address(market)), "ledger backed one to one");
    }

    function test_settleInterval_bindingCapsSplitExporterBelowAndImporterAboveHub() public {
        _scenarioX();
        Clearing memory c = _clearingX();
        uint256 ledgerBefore = _ledgerSum();
        int256 gridBefore = _balance(grid);

        // Trades (nothing to pair inside a zone): meter 1 -> meter 2, 400 Wh: 40_000 to the seller
        // (at 100k), 100_000 from the buyer (at 250k); meter 3 -> meter 2, 200 Wh: 30_000 (at 150k) and
        // 50_000 (at 250k). Grid fees: 60_000 + 20_000 = 80_000.
        // To the grid at feed-in: meter 1's 600 Wh (48_000), meter 3's 300 Wh (24_000). From the grid at
        // retail: meter 2's 400 Wh (120_000).
        bytes32 root = _energyRoot(I, c);
        _expectZoneCleared(1, 400, 100_000, true);
        _expectZoneCleared(2, -600, 250_000, true);
        _expectZoneCleared(3, 200, 150_000, false);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.IntervalSettled(I, 150_000, 600, 900, 400, 2, 80_000, root);
        _settleWith(c);

        vm.assertEq(_balance(households[0]), 40_000 + 48_000, "zone 1 seller");
        vm.assertEq(_balance(households[1]), int256(FUNDS) - 150_000 - 120_000, "zone 2 buyer");
        vm.assertEq(_balance(households[2]), 30_000 + 24_000, "zone 3 seller at the hub price");
        vm.assertEq(_balance(grid), gridBefore + 80_000 + 120_000 - 48_000 - 24_000, "grid");
        vm.assertEq(_ledgerSum(), ledgerBefore, "ledger total unchanged");
    }

    function test_settleInterval_rejectsUnlimitedClearingWhenExportCapBinds() public {
        _scenarioE(UNLIMITED, 700);
        // The reference clearing ignores the cap: hub [120k, 200k]. At 120k with the cap,
        // L = min(700, 700) - 1000 = -300 and H = min(1000, 700) - 1000 = -300 < 0: not an equilibrium.
        Clearing memory c = _referenceClearing(I);
        vm.assertEq(c.prices.priceLowMicroPerKwh, 120_000, "reference low");
        _expectSettleRevert(c, abi.encodeWithSelector(IEnergyMarket.PriceBoundNotEquilibrium.selector, 120_000));
    }

    // ------------------------------------------------------------------ non-binding capacity

    function test_settleInterval_nonBindingCapGivesTheUnlimitedResult() public {
        // Unlimited, book E is a single market: low = 120_000 (D>(x) <= S(x) = 1000 needs the 120k bid out),
        // high = 200_000 (S<(x) = 1000 <= D(x) = 1000 up to the 200k bid), p = 160_000, 1000 Wh flow.
        // With export cap 1500 > 1000 (and import cap 2000) lo_1 and hi_1 never clip: same L, H, flows.
        _scenarioE(2000, 1500);
        Clearing memory c = _referenceClearing(I);
        vm.assertEq(c.prices.priceLowMicroPerKwh, 120_000, "low");
        vm.assertEq(c.prices.priceHighMicroPerKwh, 200_000, "high");
        vm.assertEq(c.prices.priceMicroPerKwh, 160_000, "single price");
        vm.assertEq(c.zones.length, 2, "two zones");
        vm.assertEq(c.zones[0].netExportWh, 1000, "zone 1 exports everything");
        vm.assertEq(c.zones[1].netExportWh, -1000, "zone 2 imports it");
        vm.assertEq(_soldAt(c, 0), 1000, "meter 1 sells all");
        vm.assertEq(_boughtAt(c, 1), 1000, "meter 2 buys all");
        vm.assertEq(_boughtAt(c, 2), 0, "meter 4 (bid 120k) priced out");
        uint256 ledgerBefore = _ledgerSum();
        int256 gridBefore = _balance(grid);

        bytes32 root = _energyRoot(I, c);
        _expectZoneCleared(1, 1000, 160_000, false);
        _expectZoneCleared(2, -1000, 160_000, false);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.IntervalSettled(I, 160_000, 1000, 0, 300, 1, 0, root);
        _settleWith(c);

        vm.assertEq(_balance(households[0]), 160_000, "1000 Wh at 160k");
        vm.assertEq(_balance(households[1]), int256(FUNDS) - 160_000, "1000 Wh at 160k");
        vm.assertEq(_balance(households[3]), int256(FUNDS) - 90_000, "300 Wh at retail");
        vm.assertEq(_balance(grid), gridBefore + 90_000, "grid: retail only, no fees");
        vm.assertEq(_ledgerSum(), ledgerBefore, "ledger total unchanged");
    }

    // ------------------------------------------------------------------ zero capacity (islanded zone)

    function test_settleInterval_islandedZoneClearsOnItsOwn() public {
        _scenarioE(0, 0);
        // lo_1 = hi_1 = 0 at every x (both caps 0). The hub is zone 2 alone: L = -1000 up to 200k, 0 above;
        // H = -1000 below 200k, 0 from 200k: [low, high] = [200_000, 300_000] (high = retail), pi = 250_000.
        // At pi: lo_2 = hi_2 = 0 (the 200k bid is out), short = 0: every e_z = 0.
        // Zone 1: A_1(pi) = 1000 > 0, so not self-sufficient at the hub price: window [80k, 300k]; with e = 0,
        //   A_1(x) <= 0 needs x <= 100k, B_1(x) >= 0 needs x >= 100k: p_1 = 100_000 (bound, below pi).
        // Zone 2: A_2(pi) = 0 <= 0 <= B_2(pi) = 0, self-sufficient, unlimited: window [pi, pi], p_2 = 250_000.
        // Fills: zone 1 at 100k: V = min(S = 1000, D = 300) = 300, meter 1 (tied) sells 300, meter 4 buys 300.
        Clearing memory c = _handClearing(
            200_000,
            300_000,
            _zones(_zone(1, 0, 100_000, 100_000), _zone(2, 0, 250_000, 250_000)),
            _fills([uint64(300), 0], [uint64(0), 0], [uint64(0), 300])
        );
        vm.assertEq(c.prices.priceMicroPerKwh, 250_000, "hub price");

        // Zone 1's own single market (the fixture's reference clearing of zone 1's orders alone) gives the
        // same price and fills.
        BookEntry[] memory all = _book(I);
        BookEntry[] memory own = new BookEntry[](2);
        (own[0], own[1]) = (all[0], all[2]);
        Clearing memory alone = _clear(own);
        vm.assertEq(alone.prices.priceMicroPerKwh, 100_000, "zone 1 alone clears at 100k");
        vm.assertEq(_soldAt(alone, 0), 300, "alone: meter 1 sells 300");
        vm.assertEq(_boughtAt(alone, 1), 300, "alone: meter 4 buys 300");

        uint256 ledgerBefore = _ledgerSum();
        int256 gridBefore = _balance(grid);
        // One trade, meter 1 -> meter 4, 300 Wh at 100k = 30_000. Grid: meter 1's 700 Wh at feed-in
        // (56_000), meter 2's 1000 Wh at retail (300_000).
        bytes32 root = _energyRoot(I, c);
        _expectZoneCleared(1, 0, 100_000, true);
        _expectZoneCleared(2, 0, 250_000, false);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.IntervalSettled(I, 250_000, 300, 700, 1000, 1, 0, root);
        _settleWith(c);

        vm.assertEq(_balance(households[0]), 30_000 + 56_000, "island seller");
        vm.assertEq(_balance(households[3]), int256(FUNDS) - 30_000, "island buyer");
        vm.assertEq(_balance(households[1]), int256(FUNDS) - 300_000, "zone 2 buys everything at retail");
        vm.assertEq(_balance(grid), gridBefore + 300_000 - 56_000, "grid");
        vm.assertEq(_ledgerSum(), ledgerBefore, "ledger total unchanged");
    }

    // ------------------------------------------------------------------ import fee

    function test_settleInterval_importFeeChargedOnceOnCrossingEnergy() public {
        _scenarioF(0);
        Clearing memory c = _clearingF();
        uint256 ledgerBefore = _ledgerSum();
        int256 gridBefore = _balance(grid);

        // Trades: inside zone 2 first, meter 5 -> meter 2, 200 Wh at 200k = 40_000, no fee. Across:
        // meter 1 -> meter 2, 601 Wh: seller floor(601 * 187_655 / 1000) = floor(112_780.655) = 112_780,
        //   buyer 601 * 200_000 / 1000 = 120_200: 7_420 to the grid;
        // meter 4 -> meter 2, 399 Wh: seller floor(399 * 187_655 / 1000) = floor(74_874.345) = 74_874,
        //   buyer 399 * 200 = 79_800: 4_926 to the grid.
        // gridFeesMicro = 7_420 + 4_926 = 12_346: the fee once on the 1000 crossing Wh (1000 * 12_345 / 1000
        // = 12_345 exactly), plus one micro of the sellers' rounding down. Meter 2's unmet 300 Wh at retail:
        // 90_000.
        bytes32 root = _energyRoot(I, c);
        _expectZoneCleared(1, 1000, 187_655, false);
        _expectZoneCleared(2, -1000, 200_000, false);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.IntervalSettled(I, 187_655, 1200, 0, 300, 3, 12_346, root);
        _settleWith(c);

        vm.assertEq(_balance(households[0]), 112_780, "meter 1 at the hub price");
        vm.assertEq(_balance(households[3]), 74_874, "meter 4 at the hub price");
        vm.assertEq(_balance(households[4]), 40_000, "meter 5 at its zone's price");
        vm.assertEq(
            _balance(households[1]), int256(FUNDS) - 40_000 - 120_200 - 79_800 - 90_000, "meter 2 at hub + fee"
        );
        vm.assertEq(_balance(grid), gridBefore + 12_346 + 90_000, "grid: fees plus retail");
        vm.assertEq(_ledgerSum(), ledgerBefore, "ledger total unchanged");
    }

    function test_settleInterval_feeOfExportingZoneIsNotCharged() public {
        // A fee applies to imports only: with a 7_000 fee on zone 1, which exports, lo_1, hi_1, its window
        // and the whole clearing are those of book F, and the grid gets the same 12_346.
        _scenarioF(7000);
        Clearing memory c = _clearingF();
        int256 gridBefore = _balance(grid);
        bytes32 root = _energyRoot(I, c);
        _expectZoneCleared(1, 1000, 187_655, false);
        _expectZoneCleared(2, -1000, 200_000, false);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.IntervalSettled(I, 187_655, 1200, 0, 300, 3, 12_346, root);
        _settleWith(c);
        vm.assertEq(_balance(grid), gridBefore + 12_346 + 90_000, "grid");
    }

    // ------------------------------------------------------------------ reverts

    function test_settleInterval_revertsZoneFlowMismatch() public {
        _scenarioE(UNLIMITED, 700);
        Clearing memory c = _clearingE700();
        // 600 Wh instead of the 700 the cap lets through (fills are checked only later)
        Clearing memory bad = _copy(c);
        bad.zones[0].netExportWh = 600;
        bad.zones[1].netExportWh = -600;
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.ZoneFlowMismatch.selector, 1, 600, 700));
        // more than the cap, fills consistent with it
        bad = _copy(c);
        bad.zones[0].netExportWh = 1000;
        bad.zones[1].netExportWh = -1000;
        _setBought(bad, 1, 1000);
        _setBought(bad, 2, 0);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.ZoneFlowMismatch.selector, 1, 1000, 700));
        _settleWith(c);
        vm.assertEq(market.nextIntervalToSettle(), I + 1, "the valid clearing still settles");
    }

    function test_settleInterval_revertsZonePriceOutOfWindow() public {
        _scenarioE(UNLIMITED, 700);
        Clearing memory c = _clearingE700();
        // zone 2 imports without a binding limit: its window is [pi, pi] = [200k, 200k]
        Clearing memory bad = _copy(c);
        bad.zones[1] = _zone(2, -700, 190_000, 210_000);
        _expectSettleRevert(
            bad, abi.encodeWithSelector(IEnergyMarket.ZonePriceOutOfWindow.selector, 2, 200_000, 200_000, 200_000)
        );
        // below feed-in
        bad = _copy(c);
        bad.zones[0] = _zone(1, 700, 79_999, 120_000);
        _expectSettleRevert(
            bad, abi.encodeWithSelector(IEnergyMarket.ZonePriceOutOfWindow.selector, 1, 99_999, FEED_IN, RETAIL)
        );
        // not the midpoint of its bounds
        bad = _copy(c);
        bad.zones[0].priceMicroPerKwh = 110_001;
        _expectSettleRevert(
            bad, abi.encodeWithSelector(IEnergyMarket.ZonePriceOutOfWindow.selector, 1, 110_001, FEED_IN, RETAIL)
        );
        _settleWith(c);
        vm.assertEq(market.nextIntervalToSettle(), I + 1, "the valid clearing still settles");
    }

    function test_settleInterval_revertsZonePriceNotExtreme() public {
        _scenarioE(UNLIMITED, 700);
        Clearing memory c = _clearingE700();
        // Zone 1's equilibria given e_1 = 700 are [100k, 120k]. 101k is one (A_1 = 700 <= 700 <= B_1 = 700)
        // but not the lowest: A_1(101k) = 700 is not < 700.
        Clearing memory bad = _copy(c);
        bad.zones[0] = _zone(1, 700, 101_000, 120_000);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.ZonePriceNotExtreme.selector, 1, 101_000));
        // 119_999 is one but not the highest: B_1(119_999) = 700 is not > 700.
        bad = _copy(c);
        bad.zones[0] = _zone(1, 700, 100_000, 119_999);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.ZonePriceNotExtreme.selector, 1, 119_999));
        // and 120_001 is none: A_1(120_001) = 1000 > 700
        bad = _copy(c);
        bad.zones[0] = _zone(1, 700, 100_000, 120_001);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.ZonePriceNotEquilibrium.selector, 1, 120_001));
        _settleWith(c);
        vm.assertEq(market.nextIntervalToSettle(), I + 1, "the valid clearing still settles");
    }

    function test_settleInterval_revertsZonesNotSorted() public {
        _scenarioE(UNLIMITED, 700);
        Clearing memory c = _clearingE700();
        Clearing memory bad = _copy(c);
        (bad.zones[0], bad.zones[1]) = (c.zones[1], c.zones[0]);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.ZonesNotSorted.selector, 1));
        // a zone listed twice
        bad = _copy(c);
        bad.zones = _zones(c.zones[0], c.zones[0], c.zones[1]);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.ZonesNotSorted.selector, 1));
        _settleWith(c);
        vm.assertEq(market.nextIntervalToSettle(), I + 1, "the valid clearing still settles");
    }

    function test_settleInterval_revertsZoneNotListed() public {
        _scenarioE(UNLIMITED, 700);
        Clearing memory c = _clearingE700();
        // meter 2 is in zone 2, which the list leaves out
        Clearing memory bad = _copy(c);
        bad.zones = new IEnergyMarket.ZoneClearing[](1);
        bad.zones[0] = c.zones[0];
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.ZoneNotListed.selector, 2));
        // no zones at all: the first meter's zone is missing
        bad = _copy(c);
        bad.zones = new IEnergyMarket.ZoneClearing[](0);
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.ZoneNotListed.selector, 1));
        _settleWith(c);
        vm.assertEq(market.nextIntervalToSettle(), I + 1, "the valid clearing still settles");
    }

    function test_settleInterval_revertsZoneWithoutMeters() public {
        _scenarioE(UNLIMITED, 700);
        Clearing memory c = _clearingE700();
        // zone 3 has meters in the registry but no reading in this interval
        Clearing memory bad = _copy(c);
        bad.zones = _zones(c.zones[0], c.zones[1], _zone(3, 0, 200_000, 200_000));
        _expectSettleRevert(bad, abi.encodeWithSelector(IEnergyMarket.ZoneWithoutMeters.selector, 3));
        _settleWith(c);
        vm.assertEq(market.nextIntervalToSettle(), I + 1, "the valid clearing still settles");
    }

    // ------------------------------------------------------------------ energy claims across zones

    function test_claimEnergy_crossZoneTokensAddUpToFlows() public {
        _scenarioX();
        Clearing memory c = _clearingX();
        // Leaves: the two crossing trades in zone order, then the surpluses in meter-id order.
        IEnergyMarket.EnergyClaim[] memory claims = _energyClaims(I, c);
        vm.assertEq(claims.length, 4, "four leaves");
        _assertClaim(claims[0], households[1], 1, _tokenId(I, 0), 400);
        _assertClaim(claims[1], households[1], 3, _tokenId(I, 2), 200);
        _assertClaim(claims[2], grid, 1, _gridPoolId(I, 0), 600);
        _assertClaim(claims[3], grid, 3, _gridPoolId(I, 2), 300);
        _settleWith(c);

        vm.assertEq(_claimAll(I, claims), 1500, "every exported Wh is claimed");
        uint256 fromZone1 = energyToken.balanceOf(households[1], _tokenId(I, 0));
        uint256 fromZone3 = energyToken.balanceOf(households[1], _tokenId(I, 2));
        vm.assertEq(fromZone1, uint256(int256(c.zones[0].netExportWh)), "zone 1's tokens = its flow");
        vm.assertEq(fromZone3, uint256(int256(c.zones[2].netExportWh)), "zone 3's tokens = its flow");
        vm.assertEq(fromZone1 + fromZone3, uint256(-int256(c.zones[1].netExportWh)), "= zone 2's import");
        vm.assertEq(energyToken.balanceOf(grid, _gridPoolId(I, 0)), 600, "zone 1 surplus to the grid");
        vm.assertEq(energyToken.balanceOf(grid, _gridPoolId(I, 2)), 300, "zone 3 surplus to the grid");
        vm.assertEq(energyToken.mintedWh(I), 1500, "minted = export");
    }

    function test_claimEnergy_pairsInsideZoneBeforeAcross() public {
        _scenarioF(0);
        Clearing memory c = _clearingF();
        // Meter 5 (zone 2) is paired with meter 2 inside zone 2 before meters 1 and 4 of zone 1, although
        // their ids are lower; what crosses is exactly zone 1's 1000 Wh.
        IEnergyMarket.EnergyClaim[] memory claims = _energyClaims(I, c);
        vm.assertEq(claims.length, 3, "three leaves");
        _assertClaim(claims[0], households[1], 5, _tokenId(I, 4), 200);
        _assertClaim(claims[1], households[1], 1, _tokenId(I, 0), 601);
        _assertClaim(claims[2], households[1], 4, _tokenId(I, 3), 399);
        _settleWith(c);

        vm.assertEq(_claimAll(I, claims), 1200, "claimed");
        uint256 crossing =
            energyToken.balanceOf(households[1], _tokenId(I, 0)) + energyToken.balanceOf(households[1], _tokenId(I, 3));
        vm.assertEq(crossing, 1000, "crossing tokens = zone 1's flow");
        vm.assertEq(crossing, uint256(int256(c.zones[0].netExportWh)), "= e_1");
        vm.assertEq(energyToken.balanceOf(households[1], _tokenId(I, 4)), 200, "local tokens");
    }
}
