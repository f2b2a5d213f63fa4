// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./Test.sol";
import {Vm} from "./Vm.sol";
import {CommunityRegistry} from "../../src/CommunityRegistry.sol";
import {CommunityCredit} from "../../src/CommunityCredit.sol";
import {EnergyToken} from "../../src/EnergyToken.sol";
import {EnergyMarket} from "../../src/EnergyMarket.sol";
import {IEnergyMarket} from "../../src/interfaces/IEnergyMarket.sol";
import {IEnergyToken} from "../../src/interfaces/IEnergyToken.sol";
import {ICommunityRegistry} from "../../src/interfaces/ICommunityRegistry.sol";

/// @notice Shared deployment for the market tests: registry, credit, energy token and market
/// (15-minute intervals, 5-minute reading window, first interval = the current one), a grid account,
/// a meter gateway and `n` households, household i owning meter id i + 1 with key METER_PK + i.
/// Also holds a reference clearing written independently of {ClearingVerifier}: binary searches for
/// the price bounds and an explicit pro-rata allocation.
/// The fixture contract itself (address(this)) is the registry admin/operator and the credit issuer.
abstract contract MarketFixture is Test {
    uint32 internal constant INTERVAL_SECONDS = 900;
    uint32 internal constant WINDOW_SECONDS = 300;
    uint64 internal constant FEED_IN = 80_000; // 0.08 credit per kWh (6 decimals)
    uint64 internal constant RETAIL = 300_000; // 0.30 credit per kWh
    uint256 internal constant START_TIME = 1_767_225_600 + 123; // 2026-01-01, a little into an interval
    uint256 internal constant METER_PK = 0xA11CE;
    uint256 internal constant HOUSEHOLD_PK = 0xB0B;
    uint256 internal constant GRID_FLOAT = 1_000_000_000_000; // grid escrow: one million credits

    CommunityRegistry internal registry;
    CommunityCredit internal credit;
    EnergyToken internal energyToken;
    EnergyMarket internal market;

    address internal operator;
    address internal grid;
    address internal gateway;
    address internal stranger;
    uint64 internal firstInterval;

    address[] internal households;
    address[] internal meterSigners;
    uint256[] internal meterKeys;

    bytes32 internal OPERATOR_ROLE;
    bytes32 internal GRID_OPERATOR_ROLE;
    bytes32 internal METER_GATEWAY_ROLE;
    bytes32 internal MINTER_ROLE;
    bytes32 internal ISSUER_ROLE;

    /// @dev One meter's effective order as the market builds it in settlement.
    struct BookEntry {
        uint32 meterId;
        address owner;
        uint64 exportWh;
        uint64 importWh;
        uint64 offerWh;
        uint64 ask;
        uint64 demandWh;
        uint64 bid;
    }

    // ------------------------------------------------------------------ deployment

    function _deploy(uint256 n) internal {
        vm.warp(START_TIME);
        operator = address(this);
        grid = vm.addr(0x6121D);
        gateway = vm.addr(0x6A7E);
        stranger = vm.addr(0x5754);
        vm.label(grid, "grid");
        vm.label(gateway, "gateway");
        vm.label(stranger, "stranger");

        registry = new CommunityRegistry(operator);
        credit = new CommunityCredit(operator);
        energyToken = new EnergyToken(operator, "https://peergrid.example/energy/{id}.json");
        // The market opens with the next interval: meters registered now cannot report the current one.
        firstInterval = uint64(START_TIME / INTERVAL_SECONDS) + 1;
        market = new EnergyMarket(
            registry,
            energyToken,
            credit,
            grid,
            INTERVAL_SECONDS,
            WINDOW_SECONDS,
            firstInterval,
            IEnergyMarket.Tariffs({feedInMicroPerKwh: FEED_IN, retailMicroPerKwh: RETAIL})
        );

        OPERATOR_ROLE = registry.OPERATOR_ROLE();
        GRID_OPERATOR_ROLE = registry.GRID_OPERATOR_ROLE();
        METER_GATEWAY_ROLE = registry.METER_GATEWAY_ROLE();
        MINTER_ROLE = energyToken.MINTER_ROLE();
        ISSUER_ROLE = credit.ISSUER_ROLE();

        energyToken.grantRole(MINTER_ROLE, address(market));
        registry.grantRole(METER_GATEWAY_ROLE, gateway);
        registry.grantRole(GRID_OPERATOR_ROLE, grid);

        for (uint256 i; i < n; ++i) {
            _addHousehold();
        }
        _fundGrid(GRID_FLOAT);
    }

    /// @dev Onboards one more household with its own meter; returns its index.
    function _addHousehold() internal returns (uint256 i) {
        i = households.length;
        address h = vm.addr(HOUSEHOLD_PK + i);
        uint256 key = METER_PK + i;
        address signer = vm.addr(key);
        registry.registerParticipant(h, uint32(1 + i % 3));
        uint32 id = registry.registerMeter(signer, h, uint8(1 + i % 4));
        require(id == i + 1, "fixture: meter ids out of step");
        households.push(h);
        meterSigners.push(signer);
        meterKeys.push(key);
    }

    function _meterId(uint256 i) internal pure returns (uint32) {
        return uint32(i + 1);
    }

    // ------------------------------------------------------------------ readings

    function _sign(uint256 pk, address meter, uint64 interval, uint64 exportWh, uint64 importWh)
        internal
        view
        returns (IEnergyMarket.SignedReading memory r)
    {
        bytes32 digest = market.readingDigest(meter, interval, exportWh, importWh);
        (bytes32 sigR, bytes32 vs) = vm.signCompact(pk, digest);
        r = IEnergyMarket.SignedReading({
            meter: meter, interval: interval, exportWh: exportWh, importWh: importWh, r: sigR, vs: vs
        });
    }

    /// @dev The reading of household i's meter, signed by its key.
    function _reading(uint256 i, uint64 interval, uint64 exportWh, uint64 importWh)
        internal
        view
        returns (IEnergyMarket.SignedReading memory)
    {
        return _sign(meterKeys[i], meterSigners[i], interval, exportWh, importWh);
    }

    /// @dev Submits household i's reading through the gateway (strict: a duplicate reverts).
    function _submit(uint256 i, uint64 interval, uint64 exportWh, uint64 importWh) internal {
        IEnergyMarket.SignedReading memory r = _reading(i, interval, exportWh, importWh);
        vm.prank(gateway);
        market.submitReading(r);
    }

    function _submitBatch(IEnergyMarket.SignedReading[] memory rs) internal returns (uint256 recorded) {
        vm.prank(gateway);
        recorded = market.submitReadings(rs);
    }

    // ------------------------------------------------------------------ money and orders

    /// @dev Issues `amount` credit to `account` and deposits it into its escrow.
    function _fund(address account, uint256 amount) internal {
        credit.mint(account, amount);
        vm.prank(account);
        credit.approve(address(market), amount);
        vm.prank(account);
        market.depositFor(account, amount);
    }

    function _fundGrid(uint256 amount) internal {
        _fund(grid, amount);
    }

    function _setOrder(uint256 i, uint64 ask, uint64 maxSellWh, uint64 bid, uint64 maxBuyWh) internal {
        vm.prank(households[i]);
        market.setStandingOrder(
            IEnergyMarket.StandingOrder({
                askMicroPerKwh: ask, maxSellWh: maxSellWh, bidMicroPerKwh: bid, maxBuyWh: maxBuyWh
            })
        );
    }

    /// @dev Sum of every ledger balance the fixture knows (households and grid).
    function _ledgerSum() internal view returns (uint256 sum) {
        for (uint256 i; i < households.length; ++i) {
            sum += market.balanceOf(households[i]);
        }
        sum += market.balanceOf(grid);
    }

    // ------------------------------------------------------------------ time

    function _now() internal view returns (uint256) {
        return vm.getBlockTimestamp();
    }

    function _currentInterval() internal view returns (uint64) {
        return uint64(_now() / INTERVAL_SECONDS);
    }

    function _endOf(uint64 interval) internal pure returns (uint256) {
        return (uint256(interval) + 1) * INTERVAL_SECONDS;
    }

    /// @dev To the first second the interval's readings are accepted.
    function _warpToWindow(uint64 interval) internal {
        vm.warp(_endOf(interval));
    }

    /// @dev To the first second the interval can be settled.
    function _warpToClose(uint64 interval) internal {
        vm.warp(_endOf(interval) + WINDOW_SECONDS);
    }

    // ------------------------------------------------------------------ reference clearing

    /// @dev Meter ids with a reading in `interval`, increasing.
    function _metersIn(uint64 interval) internal view returns (uint32[] memory ids) {
        uint32 count = registry.meterCount();
        uint32[] memory all = new uint32[](count);
        uint256 k;
        for (uint32 m = 1; m <= count; ++m) {
            if (market.positionOf(interval, m).recorded) all[k++] = m;
        }
        ids = new uint32[](k);
        for (uint256 j; j < k; ++j) {
            ids[j] = all[j];
        }
    }

    /// @dev The effective orders: offer = min(export, maxSell) at max(ask, feed-in); demand =
    /// min(import, maxBuy, balance * 1000 / bid) at min(bid, retail), none without a buy cap.
    function _book(uint64 interval, uint32[] memory ids) internal view returns (BookEntry[] memory b) {
        IEnergyMarket.MeterSnapshot[] memory snap = market.snapshot(interval, ids);
        (uint64 feedIn, uint64 retail) = market.tariffs();
        b = new BookEntry[](snap.length);
        for (uint256 i; i < snap.length; ++i) {
            IEnergyMarket.MeterSnapshot memory s = snap[i];
            BookEntry memory e = b[i];
            e.meterId = s.meterId;
            e.owner = s.owner;
            e.exportWh = s.position.exportWh;
            e.importWh = s.position.importWh;
            e.offerWh = s.position.exportWh < s.order.maxSellWh ? s.position.exportWh : s.order.maxSellWh;
            e.ask = s.order.askMicroPerKwh < feedIn ? feedIn : s.order.askMicroPerKwh;
            if (s.order.maxBuyWh != 0) {
                e.bid = s.order.bidMicroPerKwh > retail ? retail : s.order.bidMicroPerKwh;
                uint256 q = s.position.importWh < s.order.maxBuyWh ? s.position.importWh : s.order.maxBuyWh;
                uint256 affordable = s.balance * 1000 / e.bid;
                e.demandWh = uint64(q < affordable ? q : affordable);
            }
        }
    }

    /// @dev S<(x), S(x), D>(x), D(x).
    function _curve(BookEntry[] memory b, uint256 x)
        internal
        pure
        returns (uint256 sBelow, uint256 sAtOrBelow, uint256 dAbove, uint256 dAtOrAbove)
    {
        for (uint256 i; i < b.length; ++i) {
            if (b[i].ask < x) sBelow += b[i].offerWh;
            if (b[i].ask <= x) sAtOrBelow += b[i].offerWh;
            if (b[i].bid > x) dAbove += b[i].demandWh;
            if (b[i].bid >= x) dAtOrAbove += b[i].demandWh;
        }
    }

    /// @dev The unique clearing the market rule prescribes for the meters `ids` (increasing) in `interval`.
    function _referenceClearing(uint64 interval, uint32[] memory ids)
        internal
        view
        returns (IEnergyMarket.Clearing memory c)
    {
        return _clear(_book(interval, ids));
    }

    function _referenceClearing(uint64 interval) internal view returns (IEnergyMarket.Clearing memory) {
        return _referenceClearing(interval, _metersIn(interval));
    }

    function _clear(BookEntry[] memory b) internal view returns (IEnergyMarket.Clearing memory c) {
        (uint64 feedIn, uint64 retail) = market.tariffs();
        // low: the smallest price with D>(x) <= S(x) (D> - S only falls as x rises; true at retail).
        uint256 lo = feedIn;
        uint256 hi = retail;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            (, uint256 sAt, uint256 dAbove,) = _curve(b, mid);
            if (dAbove <= sAt) hi = mid;
            else lo = mid + 1;
        }
        c.priceLowMicroPerKwh = uint64(lo);
        // high: the largest price with S<(x) <= D(x) (S< - D only rises with x; true at feed-in).
        lo = feedIn;
        hi = retail;
        while (lo < hi) {
            uint256 mid = (lo + hi + 1) / 2;
            (uint256 sBelow,,, uint256 dAt) = _curve(b, mid);
            if (sBelow <= dAt) lo = mid;
            else hi = mid - 1;
        }
        c.priceHighMicroPerKwh = uint64(lo);
        uint64 p = uint64((uint256(c.priceLowMicroPerKwh) + c.priceHighMicroPerKwh) / 2);
        c.priceMicroPerKwh = p;

        (uint256 sBelowP, uint256 sAtP, uint256 dAboveP, uint256 dAtP) = _curve(b, p);
        uint256 volume = sAtP < dAtP ? sAtP : dAtP;
        bool sellersRationed = sAtP > volume;
        bool buyersRationed = !sellersRationed && dAtP > volume;

        uint256 n = b.length;
        c.fills = new IEnergyMarket.Fill[](n);
        uint64[] memory qty = new uint64[](n);
        bool[] memory tied = new bool[](n);

        // sellers
        for (uint256 i; i < n; ++i) {
            c.fills[i].meterId = b[i].meterId;
            qty[i] = b[i].offerWh;
            tied[i] = b[i].ask == p && sellersRationed;
            if (b[i].ask < p || (b[i].ask == p && !sellersRationed)) c.fills[i].soldWh = b[i].offerWh;
        }
        if (sellersRationed) {
            uint64[] memory shares = _proRata(qty, tied, volume - sBelowP, sAtP - sBelowP);
            for (uint256 i; i < n; ++i) {
                if (tied[i]) c.fills[i].soldWh = shares[i];
            }
        }
        // buyers
        for (uint256 i; i < n; ++i) {
            qty[i] = b[i].demandWh;
            tied[i] = b[i].bid == p && buyersRationed;
            if (b[i].demandWh != 0 && (b[i].bid > p || (b[i].bid == p && !buyersRationed))) {
                c.fills[i].boughtWh = b[i].demandWh;
            }
        }
        if (buyersRationed) {
            uint64[] memory shares = _proRata(qty, tied, volume - dAboveP, dAtP - dAboveP);
            for (uint256 i; i < n; ++i) {
                if (tied[i]) c.fills[i].boughtWh = shares[i];
            }
        }
    }

    /// @dev Shares `residual` among the tied quantities pro rata, rounded down, then one Wh each to the
    /// first tied orders (lowest meter ids) that have a quantity, until nothing is left.
    function _proRata(uint64[] memory qty, bool[] memory tied, uint256 residual, uint256 tiedTotal)
        internal
        pure
        returns (uint64[] memory shares)
    {
        shares = new uint64[](qty.length);
        uint256 given;
        for (uint256 i; i < qty.length; ++i) {
            if (!tied[i]) continue;
            shares[i] = uint64(uint256(qty[i]) * residual / tiedTotal);
            given += shares[i];
        }
        uint256 left = residual - given;
        for (uint256 i; i < qty.length && left != 0; ++i) {
            if (!tied[i] || qty[i] == 0) continue;
            shares[i] += 1;
            left -= 1;
        }
        require(left == 0, "reference: remainder not handed out");
    }

    /// @dev Settles `interval` with the reference clearing.
    function _settle(uint64 interval) internal returns (IEnergyMarket.Clearing memory c) {
        c = _referenceClearing(interval);
        market.settleInterval(interval, c);
    }

    /// @dev Settles every interval from the market's next one up to and including `last` (time must allow).
    function _settleThrough(uint64 last) internal {
        for (uint64 i = market.nextIntervalToSettle(); i <= last; ++i) {
            _settle(i);
        }
    }

    /// @dev Checks every TradeSettled in `logs` against the effective limits in `b`: the buyer pays at
    /// most its bid, the seller gets at least its ask (both rounded down like the market's payments).
    /// Returns the number of violations and the traded energy.
    function _tradeLimitViolations(Vm.Log[] memory logs, BookEntry[] memory b)
        internal
        view
        returns (uint256 violations, uint256 tradedWh, uint256 trades)
    {
        for (uint256 k; k < logs.length; ++k) {
            Vm.Log memory l = logs[k];
            if (l.emitter != address(market) || l.topics.length == 0) continue;
            if (l.topics[0] != IEnergyMarket.TradeSettled.selector) continue;
            (uint32 sellerId, uint32 buyerId, uint64 energyWh, uint256 payment) =
                abi.decode(l.data, (uint32, uint32, uint64, uint256));
            BookEntry memory seller = _entryOf(b, sellerId);
            BookEntry memory buyer = _entryOf(b, buyerId);
            if (payment > _cost(energyWh, buyer.bid)) ++violations;
            if (payment < _cost(energyWh, seller.ask)) ++violations;
            if (address(uint160(uint256(l.topics[2]))) != seller.owner) ++violations;
            if (address(uint160(uint256(l.topics[3]))) != buyer.owner) ++violations;
            tradedWh += energyWh;
            ++trades;
        }
    }

    function _entryOf(BookEntry[] memory b, uint32 meterId) internal pure returns (BookEntry memory) {
        for (uint256 i; i < b.length; ++i) {
            if (b[i].meterId == meterId) return b[i];
        }
        revert("fixture: meter not in book");
    }

    function _tokenId(uint64 interval, uint256 household) internal view returns (uint256) {
        ICommunityRegistry.Meter memory m = registry.meter(_meterId(household));
        return energyToken.tokenIdOf(interval, m.zone, m.source, _meterId(household));
    }

    /// @dev The pooled id under which the grid receives `household`'s unsold energy. Fixture households
    /// 0..11 all have distinct (zone, source) pairs, so each pool holds one household's surplus.
    function _gridPoolId(uint64 interval, uint256 household) internal view returns (uint256) {
        return _tokenId(interval, household) & ~uint256(type(uint32).max);
    }

    function _cost(uint256 energyWh, uint256 price) internal pure returns (uint256) {
        return energyWh * price / 1000;
    }

    /// @dev A deep copy, so a perturbed clearing leaves the original alone.
    function _copy(IEnergyMarket.Clearing memory c) internal pure returns (IEnergyMarket.Clearing memory d) {
        d.priceLowMicroPerKwh = c.priceLowMicroPerKwh;
        d.priceHighMicroPerKwh = c.priceHighMicroPerKwh;
        d.priceMicroPerKwh = c.priceMicroPerKwh;
        d.fills = new IEnergyMarket.Fill[](c.fills.length);
        for (uint256 i; i < c.fills.length; ++i) {
            d.fills[i] = IEnergyMarket.Fill({
                meterId: c.fills[i].meterId, soldWh: c.fills[i].soldWh, boughtWh: c.fills[i].boughtWh
            });
        }
    }
}
