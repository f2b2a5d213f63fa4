// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MarketFixture} from "../utils/MarketFixture.sol";
import {Vm} from "../utils/Vm.sol";
import {IEnergyMarket} from "../../src/interfaces/IEnergyMarket.sol";

/// @notice Drives one market through random readings, orders, deposits, withdrawals, time and energy
/// claims, and settles every closed interval with the reference clearing, checking each step as it goes.
/// A failed assertion inside a handler call would only revert that call (the invariant run ignores
/// reverts), so the handler counts what went wrong in ghost variables and the invariant test asserts on
/// them. It deploys the whole fixture itself.
contract MarketHandler is MarketFixture {
    uint256 internal constant N = 8;
    uint256 internal constant MAX_SETTLES_PER_CALL = 8;

    /// @notice Intervals this handler settled.
    uint256 public ghostSettled;
    /// @notice Settlements after which nextIntervalToSettle did not move by exactly one.
    uint256 public ghostStepViolations;
    /// @notice Trades whose payment broke the buyer's bid or the seller's ask, or prices off the tariffs.
    uint256 public ghostLimitViolations;
    /// @notice Settlements whose IntervalSettled totals or energy root disagree with the reference, or
    /// whose leaves do not carry exactly the verified export.
    uint256 public ghostAccountingViolations;
    /// @notice Balances after a settlement that differ from the reference ledger (fixture `_expected`).
    uint256 public ghostLedgerViolations;
    /// @notice Batches whose return value or resulting book differ from the reading rule.
    uint256 public ghostBookViolations;
    /// @notice Reference clearings the market refused (it must accept every one).
    uint256 public ghostSettleFailures;
    bytes public ghostLastFailure;
    /// @notice Trades settled in all (to see that runs do trade).
    uint256 public ghostTrades;
    /// @notice Re-settlements of a settled interval the market accepted.
    uint256 public ghostDoubleSettles;
    /// @notice Valid claims the market refused, or that minted other than their leaf.
    uint256 public ghostClaimFailures;
    /// @notice Second claims of a leaf the market accepted.
    uint256 public ghostDoubleClaims;
    /// @notice Verified export (sum of recorded readings) of each settled interval, read just before settling.
    mapping(uint64 interval => uint256 exportWh) public ghostExportOf;
    /// @notice Energy in the leaves of each settled interval.
    mapping(uint64 interval => uint256 energyWh) public ghostLeafEnergyOf;
    /// @notice Energy claimed so far per interval.
    mapping(uint64 interval => uint256 energyWh) public ghostClaimedOf;
    /// @notice Calls per action, to see the run did something.
    mapping(bytes32 action => uint256 count) public calls;

    mapping(uint64 interval => IEnergyMarket.EnergyClaim[]) internal _claimsOf;
    mapping(uint64 interval => mapping(uint256 index => bool)) internal _claimedIndex;

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

    function claimCount(uint64 interval) external view returns (uint256) {
        return _claimsOf[interval].length;
    }

    // ------------------------------------------------------------------ actions

    /// @notice Submits readings of a random set of households, in meter-id order, for the interval whose
    /// window is open (warping to the next window if none is); sometimes re-sends all or part of it.
    function submitReadings(uint256 seed, uint256 mask) external {
        uint256 t = _now();
        uint64 cur = uint64(t / INTERVAL_SECONDS);
        if (t % INTERVAL_SECONDS >= WINDOW_SECONDS || cur == 0 || cur - 1 < market.nextIntervalToSettle()) {
            vm.warp((uint256(cur) + 1) * INTERVAL_SECONDS);
            cur += 1;
        }
        uint64 interval = cur - 1;
        if (interval < market.nextIntervalToSettle()) return;
        mask = mask % (1 << N);
        if (mask == 0) mask = 1 << (seed % N);
        uint256 count;
        for (uint256 i; i < N; ++i) {
            if (mask & (1 << i) != 0) ++count;
        }
        IEnergyMarket.SignedReading[] memory rs = new IEnergyMarket.SignedReading[](count);
        uint256 j;
        for (uint256 i; i < N; ++i) {
            if (mask & (1 << i) == 0) continue;
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint64 exportWh = ((r >> 8) & 3) == 0 ? 0 : uint64((r >> 16) % 4001);
            uint64 importWh = ((r >> 10) & 3) == 0 ? 0 : uint64((r >> 48) % 4001);
            rs[j++] = _reading(i, interval, exportWh, importWh);
        }
        _submitChecked(interval, rs);
        if (seed % 4 == 0) _submitChecked(interval, rs); // a gateway retrying changes nothing
        calls["submitReadings"]++;
    }

    function _submitChecked(uint64 interval, IEnergyMarket.SignedReading[] memory rs) internal {
        (uint256 recorded, uint256 expected) = _submitBatchUnchecked(interval, rs);
        if (recorded != expected || !_bookMatches(interval)) ghostBookViolations++;
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
            if (have < required) _fund(households[i], required - have + _gridDebtOf(households[i]));
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
            if (!_settleGhost(interval)) break;
        }
        calls["settle"]++;
    }

    /// @notice Tries to settle the last settled interval again; the market must refuse.
    function settleAgain() external {
        uint64 next = market.nextIntervalToSettle();
        if (next == firstInterval) return;
        Clearing memory c = _referenceClearing(next - 1);
        try market.settleInterval(next - 1, c.prices, c.zones, c.entries) {
            ghostDoubleSettles++;
        } catch {}
        calls["settleAgain"]++;
    }

    /// @notice Claims one unclaimed leaf of a settled interval (anyone may).
    function claim(uint256 seed) external {
        (bool found, uint64 interval, uint256 k) = _pickLeaf(seed);
        if (!found || _claimedIndex[interval][k]) return;
        _claimOne(interval, k);
        calls["claim"]++;
    }

    /// @notice Tries to claim an already claimed leaf again; the market must refuse.
    function claimAgain(uint256 seed) external {
        (bool found, uint64 interval, uint256 k) = _pickLeaf(seed);
        if (!found || !_claimedIndex[interval][k]) return;
        IEnergyMarket.EnergyClaim[] memory claims = _claimsOf[interval];
        bytes32[] memory leaves = _leaves(interval, claims);
        try market.claimEnergy(interval, claims[k], _merkleProof(leaves, k)) {
            ghostDoubleClaims++;
        } catch {}
        calls["claimAgain"]++;
    }

    /// @dev A leaf of a settled interval picked by `seed`; `found` is false when there is none yet.
    function _pickLeaf(uint256 seed) private view returns (bool found, uint64 interval, uint256 k) {
        uint64 next = market.nextIntervalToSettle();
        if (next == firstInterval) return (false, 0, 0);
        interval = firstInterval + uint64(seed % (next - firstInterval));
        uint256 n = _claimsOf[interval].length;
        if (n == 0) return (false, 0, 0);
        return (true, interval, (seed >> 64) % n);
    }

    /// @notice Claims every leaf of every settled interval not claimed yet (after a run).
    function claimEverything() external {
        uint64 next = market.nextIntervalToSettle();
        for (uint64 interval = firstInterval; interval < next; ++interval) {
            uint256 n = _claimsOf[interval].length;
            for (uint256 k; k < n; ++k) {
                if (!_claimedIndex[interval][k]) _claimOne(interval, k);
            }
        }
    }

    function _claimOne(uint64 interval, uint256 k) internal {
        IEnergyMarket.EnergyClaim[] memory claims = _claimsOf[interval];
        bytes32[] memory leaves = _leaves(interval, claims);
        IEnergyMarket.EnergyClaim memory c = claims[k];
        uint256 before = energyToken.balanceOf(c.recipient, c.tokenId);
        vm.prank(stranger);
        try market.claimEnergy(interval, c, _merkleProof(leaves, k)) {
            if (energyToken.balanceOf(c.recipient, c.tokenId) != before + c.energyWh) ghostClaimFailures++;
            _claimedIndex[interval][k] = true;
            ghostClaimedOf[interval] += c.energyWh;
        } catch {
            ghostClaimFailures++;
        }
    }

    // ------------------------------------------------------------------ checked settlement

    /// @dev What a settlement is checked against, computed before it runs.
    struct Reference {
        BookEntry[] book;
        Clearing clearing;
        Expected expected;
        bytes32 root;
        uint256 exportWh;
        int256 gridBefore;
    }

    function _reference(uint64 interval) internal view returns (Reference memory r) {
        r.book = _book(interval);
        r.clearing = _clear(r.book);
        r.expected = _expected(r.book, r.clearing);
        r.root = _energyRoot(interval, r.clearing);
        r.exportWh = _exportSum(interval);
        r.gridBefore = _balance(grid);
    }

    function _settleGhost(uint64 interval) internal returns (bool) {
        Reference memory r = _reference(interval);
        Clearing memory c = r.clearing;
        uint64 before = market.nextIntervalToSettle();

        vm.recordLogs();
        try market.settleInterval(interval, c.prices, c.zones, c.entries) {}
        catch (bytes memory err) {
            vm.getRecordedLogs();
            ghostSettleFailures++;
            ghostLastFailure = err;
            return false;
        }
        Vm.Log[] memory logs = vm.getRecordedLogs();

        ghostSettled++;
        ghostExportOf[interval] = r.exportWh;
        if (market.nextIntervalToSettle() != before + 1) ghostStepViolations++;

        ghostLimitViolations += _tradeLimitViolations(r.book, c);
        ghostTrades += r.expected.trades;
        if (c.prices.priceMicroPerKwh < FEED_IN || c.prices.priceMicroPerKwh > RETAIL) ghostLimitViolations++;
        if (!_intervalSettledMatches(logs, interval, c.prices.priceMicroPerKwh, r.expected, r.root)) {
            ghostAccountingViolations++;
        }
        if (market.energyRootOf(interval) != r.root) ghostAccountingViolations++;

        for (uint256 i; i < r.book.length; ++i) {
            if (_balance(r.book[i].owner) != r.expected.balances[i]) ghostLedgerViolations++;
        }
        if (_balance(grid) != r.gridBefore + r.expected.gridDelta) ghostLedgerViolations++;

        IEnergyMarket.EnergyClaim[] memory claims = _energyClaims(interval, c);
        uint256 leafEnergy = _claimsSum(claims);
        ghostLeafEnergyOf[interval] = leafEnergy;
        if (leafEnergy != r.exportWh) ghostAccountingViolations++;
        for (uint256 k; k < claims.length; ++k) {
            _claimsOf[interval].push(claims[k]);
        }
        return true;
    }

    function _intervalSettledMatches(
        Vm.Log[] memory logs,
        uint64 interval,
        uint64 price,
        Expected memory x,
        bytes32 root
    ) internal view returns (bool) {
        for (uint256 k; k < logs.length; ++k) {
            Vm.Log memory l = logs[k];
            if (l.emitter != address(market) || l.topics[0] != IEnergyMarket.IntervalSettled.selector) continue;
            if (uint256(l.topics[1]) != interval) return false;
            (uint64 p, uint256 traded, uint256 toGrid, uint256 fromGrid, uint256 n, uint256 fees, bytes32 r) =
                abi.decode(l.data, (uint64, uint256, uint256, uint256, uint256, uint256, bytes32));
            // Every handler zone is unlimited and free: one price, so no fees.
            return p == price && traded == x.tradedWh && toGrid == x.toGridWh && fromGrid == x.fromGridWh
                && n == x.trades && fees == 0 && r == root;
        }
        return false;
    }
}
