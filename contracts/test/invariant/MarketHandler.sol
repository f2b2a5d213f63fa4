// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketFixture} from "../utils/MarketFixture.sol";
import {Vm} from "../utils/Vm.sol";
import {IEnergyMarket} from "../../src/interfaces/IEnergyMarket.sol";

/// @notice Drives one market through random readings, orders, deposits, withdrawals and time, and
/// settles every closed interval with the reference clearing, checking each settlement as it goes
/// (ghost counters the invariant test asserts on). It deploys the whole fixture itself.
contract MarketHandler is MarketFixture {
    uint256 internal constant N = 8;
    uint256 internal constant MAX_SETTLES_PER_CALL = 8;

    /// @notice Intervals this handler settled.
    uint256 public ghostSettled;
    /// @notice Settlements after which nextIntervalToSettle did not move by exactly one.
    uint256 public ghostStepViolations;
    /// @notice Trades whose payment broke the buyer's bid or the seller's ask.
    uint256 public ghostLimitViolations;
    /// @notice Settlements whose IntervalSettled, TradeSettled or mint totals disagree with the clearing.
    uint256 public ghostAccountingViolations;
    /// @notice Reference clearings the market refused (it must accept every one).
    uint256 public ghostSettleFailures;
    bytes public ghostLastFailure;
    /// @notice Trades settled in all (to see that runs do trade).
    uint256 public ghostTrades;
    /// @notice Re-settlements of a settled interval the market accepted.
    uint256 public ghostDoubleSettles;
    /// @notice Verified export (sum of recorded readings) of each settled interval, read just before settling.
    mapping(uint64 interval => uint256 exportWh) public ghostExportOf;
    /// @notice Calls per action, to see the run did something.
    mapping(bytes32 action => uint256 count) public calls;

    constructor() {
        _deploy(N);
    }

    // ------------------------------------------------------------------ views for the invariants

    function ledgerSum() external view returns (uint256) {
        return _ledgerSum();
    }

    function first() external view returns (uint64) {
        return firstInterval;
    }

    function householdCount() external pure returns (uint256) {
        return N;
    }

    function contracts() external view returns (address, address, address, address) {
        return (address(registry), address(credit), address(energyToken), address(market));
    }

    // ------------------------------------------------------------------ actions

    /// @notice Submits a batch of readings for the interval whose window is open (warping to the next
    /// window if none is), sometimes repeating part of it.
    function submitReadings(uint256 seed, uint256 count) external {
        uint256 t = _now();
        uint64 cur = uint64(t / INTERVAL_SECONDS);
        if (t % INTERVAL_SECONDS >= WINDOW_SECONDS || cur == 0 || cur - 1 < market.nextIntervalToSettle()) {
            vm.warp((uint256(cur) + 1) * INTERVAL_SECONDS);
            cur += 1;
        }
        uint64 interval = cur - 1;
        if (interval < market.nextIntervalToSettle()) return;
        count = bound(count, 1, N);
        IEnergyMarket.SignedReading[] memory rs = new IEnergyMarket.SignedReading[](count);
        for (uint256 j; j < count; ++j) {
            uint256 r = uint256(keccak256(abi.encode(seed, j)));
            uint256 i = r % N;
            uint64 exportWh = ((r >> 8) & 3) == 0 ? 0 : uint64((r >> 16) % 4001);
            uint64 importWh = ((r >> 10) & 3) == 0 ? 0 : uint64((r >> 48) % 4001);
            rs[j] = _reading(i, interval, exportWh, importWh);
        }
        _submitBatch(rs);
        if (seed % 4 == 0) _submitBatch(rs); // a gateway retrying changes nothing
        calls["submitReadings"]++;
    }

    /// @notice Sets a random standing order, funding the escrow a buy side needs.
    function setOrder(uint256 who, uint256 ask, uint256 maxSell, uint256 bid, uint256 maxBuy) external {
        uint256 i = who % N;
        uint64 a = uint64(bound(ask, 50_000, 350_000));
        uint64 s = uint64(bound(maxSell, 0, 5000));
        uint64 q = uint64(bound(maxBuy, 0, 5000));
        uint64 b = q == 0 ? 0 : uint64(bound(bid, 50_000, 350_000));
        if (a % 3 == 0) a = uint64(100_000 + (a % 5) * 50_000); // frequent ties
        if (q != 0 && b % 3 == 0) b = uint64(100_000 + (b % 5) * 50_000);
        if (q != 0) {
            uint256 required = (uint256(q) * (b > RETAIL ? RETAIL : b) + 999) / 1000;
            uint256 have = market.balanceOf(households[i]);
            // a deposit pays grid debt first
            if (have < required) _fund(households[i], required - have + market.gridDebtOf(households[i]));
        }
        _setOrder(i, a, s, b, q);
        calls["setOrder"]++;
    }

    function deposit(uint256 who, uint256 amount) external {
        amount = bound(amount, 1, 2_000_000);
        uint256 i = who % (N + 1);
        _fund(i == N ? grid : households[i], amount);
        calls["deposit"]++;
    }

    function withdraw(uint256 who, uint256 amount) external {
        address account = households[who % N];
        uint256 have = market.balanceOf(account);
        if (have == 0) return;
        amount = bound(amount, 1, have);
        vm.prank(account);
        market.withdraw(amount);
        calls["withdraw"]++;
    }

    function warp(uint256 secs) external {
        vm.warp(_now() + bound(secs, 1, 1800));
        calls["warp"]++;
    }

    /// @notice Settles every closed interval in order (a few per call) with the reference clearing.
    function settle() external {
        for (uint256 k; k < MAX_SETTLES_PER_CALL; ++k) {
            uint64 interval = market.nextIntervalToSettle();
            if (_now() < _endOf(interval) + WINDOW_SECONDS) break;
            if (!_settleChecked(interval)) break;
        }
        calls["settle"]++;
    }

    /// @notice Tries to settle the last settled interval again; the market must refuse.
    function settleAgain() external {
        uint64 next = market.nextIntervalToSettle();
        if (next == firstInterval) return;
        IEnergyMarket.Clearing memory c = _referenceClearing(next - 1);
        try market.settleInterval(next - 1, c) {
            ghostDoubleSettles++;
        } catch {}
        calls["settleAgain"]++;
    }

    // ------------------------------------------------------------------ checked settlement

    function _settleChecked(uint64 interval) internal returns (bool) {
        uint32[] memory ids = _metersIn(interval);
        BookEntry[] memory b = _book(interval, ids);
        IEnergyMarket.Clearing memory c = _clear(b);
        uint256 exportWh;
        uint256 soldWh;
        for (uint256 i; i < b.length; ++i) {
            exportWh += b[i].exportWh;
            soldWh += c.fills[i].soldWh;
        }
        uint64 before = market.nextIntervalToSettle();

        vm.recordLogs();
        try market.settleInterval(interval, c) {}
        catch (bytes memory err) {
            vm.getRecordedLogs();
            ghostSettleFailures++;
            ghostLastFailure = err;
            return false;
        }
        Vm.Log[] memory logs = vm.getRecordedLogs();

        ghostSettled++;
        ghostExportOf[interval] = exportWh;
        if (market.nextIntervalToSettle() != before + 1) ghostStepViolations++;

        (uint256 violations, uint256 tradedWh, uint256 trades) = _tradeLimitViolations(logs, b);
        ghostLimitViolations += violations;
        ghostTrades += trades;
        if (c.priceMicroPerKwh < FEED_IN || c.priceMicroPerKwh > RETAIL) ghostLimitViolations++;
        if (tradedWh != soldWh) ghostAccountingViolations++;
        if (energyToken.mintedWh(interval) != exportWh) ghostAccountingViolations++;
        if (!_intervalSettledMatches(logs, interval, c.priceMicroPerKwh, soldWh, exportWh - soldWh, trades)) {
            ghostAccountingViolations++;
        }
        return true;
    }

    function _intervalSettledMatches(
        Vm.Log[] memory logs,
        uint64 interval,
        uint64 price,
        uint256 tradedWh,
        uint256 toGridWh,
        uint256 trades
    ) internal view returns (bool) {
        for (uint256 k; k < logs.length; ++k) {
            Vm.Log memory l = logs[k];
            if (l.emitter != address(market) || l.topics[0] != IEnergyMarket.IntervalSettled.selector) continue;
            if (uint256(l.topics[1]) != interval) return false;
            (uint64 p, uint256 traded, uint256 toGrid,, uint256 n) =
                abi.decode(l.data, (uint64, uint256, uint256, uint256, uint256));
            return p == price && traded == tradedWh && toGrid == toGridWh && n == trades;
        }
        return false;
    }
}
