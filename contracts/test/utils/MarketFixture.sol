// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "./Test.sol";
import {CommunityRegistry} from "../../src/CommunityRegistry.sol";
import {CommunityCredit} from "../../src/CommunityCredit.sol";
import {EnergyToken} from "../../src/EnergyToken.sol";
import {EnergyMarket} from "../../src/EnergyMarket.sol";
import {BilateralAgreements} from "../../src/BilateralAgreements.sol";
import {IEnergyMarket} from "../../src/interfaces/IEnergyMarket.sol";
import {ICommunityRegistry} from "../../src/interfaces/ICommunityRegistry.sol";
import {MeterEntry} from "../../src/libraries/MeterEntry.sol";

/// @notice Shared deployment for the market tests: registry, credit, energy token and market
/// (15-minute intervals, 5-minute reading window, first interval = the next one), a grid account,
/// a meter gateway and `n` households, household i owning meter id i + 1 with key METER_PK + i.
///
/// The market keeps no readings, only a running hash per interval, so the fixture keeps its own copy of
/// every reading the market recorded (`_submitBatch` applies the market's rule: a meter id not above the
/// interval's last one is skipped) and checks after every batch that the market's book (count, last
/// meter id, head) is exactly the hash chain of that copy, computed here without {MeterEntry.chain}.
///
/// From that copy it derives, independently of the contracts:
/// - a reference clearing (binary searches for the price bounds, explicit pro-rata allocation) as the
///   `Prices` and `Entry[]` that `settleInterval` takes;
/// - the settlement's expected ledger: trade pairs from overlapping cumulative fills, payments, sales
///   to and purchases from the grid, grid debt;
/// - the energy leaves, their Merkle root and proofs (sorted pairs, odd node carried up), so tests can
///   claim every leaf.
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
    BilateralAgreements internal agreements;

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

    /// @dev A reading the market recorded, with the meter as the registry described it at the time.
    struct Recorded {
        address owner;
        uint32 meterId;
        uint16 zone;
        uint8 source;
        uint64 exportWh;
        uint64 importWh;
    }

    /// @dev A household's reading for `_submitReadings` (which sorts by meter id).
    struct HouseholdReading {
        uint256 household;
        uint64 exportWh;
        uint64 importWh;
    }

    /// @dev One meter's effective order as the market builds it in settlement, and its signed balance.
    struct BookEntry {
        uint32 meterId;
        address owner;
        uint16 zone;
        uint8 source;
        uint64 exportWh;
        uint64 importWh;
        uint64 offerWh;
        uint64 ask;
        uint64 demandWh;
        uint64 bid;
        int256 balance;
    }

    /// @dev A clearing as `settleInterval` takes it.
    struct Clearing {
        IEnergyMarket.Prices prices;
        IEnergyMarket.ZoneClearing[] zones;
        IEnergyMarket.Entry[] entries;
    }

    /// @dev One trade: indexes of the seller's and the buyer's entries, and the energy.
    struct Trade {
        uint256 seller;
        uint256 buyer;
        uint64 energyWh;
    }

    /// @dev What a settlement must do to the ledger, and the totals of its IntervalSettled event.
    struct Expected {
        int256[] balances; // per entry, signed (negative: grid debt)
        int256 gridDelta;
        uint256 tradedWh;
        uint256 toGridWh;
        uint256 fromGridWh;
        uint256 trades;
    }

    mapping(uint64 interval => Recorded[]) private _recordedIn;

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
        agreements = new BilateralAgreements(registry, INTERVAL_SECONDS);
        // The market opens with the next interval: meters registered now cannot report the current one.
        firstInterval = uint64(START_TIME / INTERVAL_SECONDS) + 1;
        market = _newMarket();
        agreements.setMarket(market);

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

    /// @dev Grid imports `account`'s escrow could not pay (its negative balance).
    function _gridDebtOf(address account) internal view returns (uint256) {
        int128 balance = _accountOf(account).balanceMicro;
        return balance < 0 ? uint256(-int256(balance)) : 0;
    }

    /// @dev `account`'s standing order as stored.
    function _standingOrderOf(address account) internal view returns (IEnergyMarket.StandingOrder memory) {
        IEnergyMarket.Account memory a = _accountOf(account);
        return IEnergyMarket.StandingOrder(a.askMicroPerKwh, a.maxSellWh, a.bidMicroPerKwh, a.maxBuyWh);
    }

    function _accountOf(address account) internal view returns (IEnergyMarket.Account memory) {
        address[] memory one = new address[](1);
        one[0] = account;
        return market.accountsOf(one)[0];
    }

    /// @dev A market over the fixture's registry, tokens and grid account, with the fixture's timing and tariffs.
    function _newMarket() internal returns (EnergyMarket) {
        return new EnergyMarket(
            registry,
            energyToken,
            credit,
            agreements,
            grid,
            INTERVAL_SECONDS,
            WINDOW_SECONDS,
            firstInterval,
            IEnergyMarket.Tariffs({feedInMicroPerKwh: FEED_IN, retailMicroPerKwh: RETAIL})
        );
    }

    /// @dev Onboards one more household with its own meter; returns its index.
    function _addHousehold() internal returns (uint256 i) {
        i = households.length;
        address h = vm.addr(HOUSEHOLD_PK + i);
        uint256 key = METER_PK + i;
        address signer = vm.addr(key);
        registry.registerParticipant(h, uint16(1 + i % 3));
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
        r = IEnergyMarket.SignedReading({meter: meter, exportWh: exportWh, importWh: importWh, r: sigR, vs: vs});
    }

    /// @dev The reading of household i's meter, signed by its key.
    function _reading(uint256 i, uint64 interval, uint64 exportWh, uint64 importWh)
        internal
        view
        returns (IEnergyMarket.SignedReading memory)
    {
        return _sign(meterKeys[i], meterSigners[i], interval, exportWh, importWh);
    }

    function _one(IEnergyMarket.SignedReading memory r) internal pure returns (IEnergyMarket.SignedReading[] memory rs) {
        rs = new IEnergyMarket.SignedReading[](1);
        rs[0] = r;
    }

    /// @dev Submits `rs` for `interval` through the gateway, records what the market must have recorded
    /// and checks the market's return value and book against it.
    function _submitBatch(uint64 interval, IEnergyMarket.SignedReading[] memory rs) internal returns (uint256 recorded) {
        uint256 expected;
        (recorded, expected) = _submitBatchUnchecked(interval, rs);
        vm.assertEq(recorded, expected, "fixture: the market recorded other readings than its rule says");
        vm.assertTrue(_bookMatches(interval), "fixture: the market's book differs from the readings it recorded");
    }

    /// @dev {_submitBatch} without assertions (for the invariant handler, where a failed assertion would
    /// only revert the call): returns what the market says it recorded and what the rule says it should
    /// have (readings whose meter id is above the interval's last so far, in batch order).
    function _submitBatchUnchecked(uint64 interval, IEnergyMarket.SignedReading[] memory rs)
        internal
        returns (uint256 recorded, uint256 expected)
    {
        vm.prank(gateway);
        recorded = market.submitReadings(interval, rs);
        expected = _record(interval, rs);
    }

    /// @dev Adds to the fixture's copy of `interval`'s book what the market must have recorded from `rs`
    /// (call it after the market accepted the batch); returns how many readings were new.
    function _record(uint64 interval, IEnergyMarket.SignedReading[] memory rs) internal returns (uint256 expected) {
        Recorded[] storage list = _recordedIn[interval];
        uint32 last = list.length == 0 ? 0 : list[list.length - 1].meterId;
        for (uint256 k; k < rs.length; ++k) {
            ICommunityRegistry.Meter memory m = registry.meterOf(rs[k].meter);
            if (m.meterId <= last) continue;
            list.push(Recorded(m.owner, m.meterId, m.zone, m.source, rs[k].exportWh, rs[k].importWh));
            last = m.meterId;
            ++expected;
        }
    }

    /// @dev Submits household i's reading through the gateway, as a batch of one.
    function _submit(uint256 i, uint64 interval, uint64 exportWh, uint64 importWh) internal returns (uint256) {
        return _submitBatch(interval, _one(_reading(i, interval, exportWh, importWh)));
    }

    /// @dev The readings signed by each household's current meter, sorted by meter id.
    function _signedSorted(uint64 interval, HouseholdReading[] memory readings)
        internal
        view
        returns (IEnergyMarket.SignedReading[] memory rs)
    {
        uint256 n = readings.length;
        uint32[] memory ids = new uint32[](n);
        HouseholdReading[] memory sorted = new HouseholdReading[](n);
        for (uint256 k; k < n; ++k) {
            uint32 id = registry.meterIdOf(meterSigners[readings[k].household]);
            uint256 j = k;
            while (j > 0 && ids[j - 1] > id) {
                ids[j] = ids[j - 1];
                sorted[j] = sorted[j - 1];
                --j;
            }
            ids[j] = id;
            sorted[j] = readings[k];
        }
        rs = new IEnergyMarket.SignedReading[](n);
        for (uint256 k; k < n; ++k) {
            rs[k] = _reading(sorted[k].household, interval, sorted[k].exportWh, sorted[k].importWh);
        }
    }

    /// @dev Submits the readings of a set of households in one batch, in meter-id order.
    function _submitReadings(uint64 interval, HouseholdReading[] memory readings) internal returns (uint256) {
        return _submitBatch(interval, _signedSorted(interval, readings));
    }

    /// @dev The readings the market recorded for `interval`, in meter-id order.
    function _recordedReadings(uint64 interval) internal view returns (Recorded[] memory) {
        return _recordedIn[interval];
    }

    function _exportSum(uint64 interval) internal view returns (uint256 sum) {
        Recorded[] storage list = _recordedIn[interval];
        for (uint256 k; k < list.length; ++k) {
            sum += list[k].exportWh;
        }
    }

    /// @dev The documented meter word, packed here without {MeterEntry}.
    function _meterWord(Recorded memory r) internal pure returns (uint256) {
        return (uint256(uint160(r.owner)) << 96) | (uint256(r.meterId) << 64) | (uint256(r.zone) << 48)
            | (uint256(r.source) << 40);
    }

    /// @dev The book head the recorded readings commit to: head' = keccak256(abi.encode(head, meter, reading)).
    function _headOf(uint64 interval) internal view returns (bytes32 head) {
        Recorded[] storage list = _recordedIn[interval];
        for (uint256 k; k < list.length; ++k) {
            Recorded memory r = list[k];
            uint256 reading = (uint256(r.exportWh) << 192) | (uint256(r.importWh) << 128);
            head = keccak256(abi.encode(head, _meterWord(r), reading));
        }
    }

    function _bookMatches(uint64 interval) internal view returns (bool) {
        IEnergyMarket.IntervalBook memory book = market.bookOf(interval);
        Recorded[] storage list = _recordedIn[interval];
        uint32 last = list.length == 0 ? 0 : list[list.length - 1].meterId;
        return book.count == list.length && book.lastMeterId == last && book.head == _headOf(interval);
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

    /// @dev The signed escrow balance of `account` (negative: grid debt).
    function _balance(address account) internal view returns (int256) {
        address[] memory one = new address[](1);
        one[0] = account;
        return market.accountsOf(one)[0].balanceMicro;
    }

    /// @dev Sum of every ledger balance the fixture knows (households and grid); debts count as zero.
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

    /// @dev The effective orders: offer = min(export, maxSell) at max(ask, feed-in); demand =
    /// min(import, maxBuy, positive balance * 1000 / bid) at min(bid, retail), none without a buy cap.
    function _book(uint64 interval) internal view returns (BookEntry[] memory b) {
        Recorded[] memory rec = _recordedIn[interval];
        address[] memory owners = new address[](rec.length);
        for (uint256 i; i < rec.length; ++i) {
            owners[i] = rec[i].owner;
        }
        IEnergyMarket.Account[] memory accounts = market.accountsOf(owners);
        (uint64 feedIn, uint64 retail) = market.tariffs();
        b = new BookEntry[](rec.length);
        for (uint256 i; i < rec.length; ++i) {
            IEnergyMarket.Account memory a = accounts[i];
            BookEntry memory e = b[i];
            e.meterId = rec[i].meterId;
            e.owner = rec[i].owner;
            e.zone = rec[i].zone;
            e.source = rec[i].source;
            e.exportWh = rec[i].exportWh;
            e.importWh = rec[i].importWh;
            e.balance = a.balanceMicro;
            e.offerWh = rec[i].exportWh < a.maxSellWh ? rec[i].exportWh : a.maxSellWh;
            e.ask = a.askMicroPerKwh < feedIn ? feedIn : a.askMicroPerKwh;
            if (a.maxBuyWh != 0) {
                e.bid = a.bidMicroPerKwh > retail ? retail : a.bidMicroPerKwh;
                uint256 q = rec[i].importWh < a.maxBuyWh ? rec[i].importWh : a.maxBuyWh;
                uint256 affordable = (e.balance > 0 ? uint256(e.balance) : 0) * 1000 / e.bid;
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

    /// @dev The unique clearing the market rule prescribes for the readings recorded in `interval`.
    function _referenceClearing(uint64 interval) internal view returns (Clearing memory) {
        return _clear(_book(interval));
    }

    function _clear(BookEntry[] memory b) internal view returns (Clearing memory c) {
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
        c.prices.priceLowMicroPerKwh = uint64(lo);
        // high: the largest price with S<(x) <= D(x) (S< - D only rises with x; true at feed-in).
        lo = feedIn;
        hi = retail;
        while (lo < hi) {
            uint256 mid = (lo + hi + 1) / 2;
            (uint256 sBelow,,, uint256 dAt) = _curve(b, mid);
            if (sBelow <= dAt) lo = mid;
            else hi = mid - 1;
        }
        c.prices.priceHighMicroPerKwh = uint64(lo);
        uint64 p = uint64((uint256(c.prices.priceLowMicroPerKwh) + c.prices.priceHighMicroPerKwh) / 2);
        c.prices.priceMicroPerKwh = p;

        // Every fixture zone is unlimited and free unless a test sets limits, so every zone trades at p; the
        // hub's shortfall is covered by tied sellers first, then by tied buyers staying out, shared among
        // zones pro rata (docs/architecture.md, "Grid zones"), and each zone then clears at p around its flow.
        uint256 n = b.length;
        uint16[] memory ids = _zoneIds(b);
        int256[] memory flows = _uniformFlows(b, ids, p);
        uint64[] memory sold = new uint64[](n);
        uint64[] memory bought = new uint64[](n);
        for (uint256 k; k < ids.length; ++k) {
            _fillZone(b, ids[k], p, flows[k], sold, bought);
        }

        c.entries = new IEnergyMarket.Entry[](n);
        for (uint256 i; i < n; ++i) {
            c.entries[i] = IEnergyMarket.Entry({
                meter: MeterEntry.meterWord(b[i].owner, b[i].meterId, b[i].zone, b[i].source),
                energy: MeterEntry.readingWord(b[i].exportWh, b[i].importWh) | (uint256(sold[i]) << 64) | bought[i]
            });
        }
        c.zones = _uniformZones(c);
    }

    /// @dev The zones of a clearing in which no zone limit binds (every zone unlimited and free, as the
    /// fixture's zones are unless a test sets limits): each zone with meters at the single price, its net
    /// export what its meters sold minus bought.
    function _uniformZones(Clearing memory c) internal pure returns (IEnergyMarket.ZoneClearing[] memory zones) {
        uint256[] memory ord = _byZone(c);
        uint256 count;
        for (uint256 j; j < ord.length; ++j) {
            if (j == 0 || _zoneAt(c, ord[j]) != _zoneAt(c, ord[j - 1])) ++count;
        }
        zones = new IEnergyMarket.ZoneClearing[](count);
        uint64 p = c.prices.priceMicroPerKwh;
        uint256 k;
        for (uint256 j; j < ord.length; ++j) {
            if (j != 0 && _zoneAt(c, ord[j]) != _zoneAt(c, ord[j - 1])) ++k;
            IEnergyMarket.ZoneClearing memory z = zones[k];
            z.zone = _zoneAt(c, ord[j]);
            z.netExportWh += int64(_soldAt(c, ord[j])) - int64(_boughtAt(c, ord[j]));
            (z.priceLowMicroPerKwh, z.priceHighMicroPerKwh, z.priceMicroPerKwh) = (p, p, p);
        }
    }

    /// @dev Entry indexes grouped by zone (increasing zone id), in meter-id order inside each zone.
    function _byZone(Clearing memory c) internal pure returns (uint256[] memory ord) {
        uint256 n = c.entries.length;
        ord = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 j = i;
            while (j > 0 && _zoneAt(c, ord[j - 1]) > _zoneAt(c, i)) {
                ord[j] = ord[j - 1];
                --j;
            }
            ord[j] = i;
        }
    }

    /// @dev The distinct zones of a book, increasing.
    function _zoneIds(BookEntry[] memory b) internal pure returns (uint16[] memory ids) {
        uint16[] memory all = new uint16[](b.length);
        uint256 count;
        for (uint256 i; i < b.length; ++i) {
            uint256 j = count;
            bool seen;
            for (uint256 k; k < count; ++k) {
                if (all[k] == b[i].zone) seen = true;
            }
            if (seen) continue;
            while (j > 0 && all[j - 1] > b[i].zone) {
                all[j] = all[j - 1];
                --j;
            }
            all[j] = b[i].zone;
            ++count;
        }
        ids = new uint16[](count);
        for (uint256 k; k < count; ++k) {
            ids[k] = all[k];
        }
    }

    /// @dev S<, S, D>, D of one zone at x.
    function _zoneCurve(BookEntry[] memory b, uint16 zone, uint256 x) internal pure returns (int256[4] memory sums) {
        for (uint256 i; i < b.length; ++i) {
            if (b[i].zone != zone) continue;
            if (b[i].ask < x) sums[0] += int256(uint256(b[i].offerWh));
            if (b[i].ask <= x) sums[1] += int256(uint256(b[i].offerWh));
            if (b[i].bid > x) sums[2] += int256(uint256(b[i].demandWh));
            if (b[i].bid >= x) sums[3] += int256(uint256(b[i].demandWh));
        }
    }

    /// @dev Net exports of unlimited, free zones at price p: from S< - D up, tied sellers' Wh first.
    function _uniformFlows(BookEntry[] memory b, uint16[] memory ids, uint64 p) internal pure returns (int256[] memory e) {
        uint256 z = ids.length;
        e = new int256[](z);
        int256[] memory sellerSlack = new int256[](z);
        int256[] memory buyerSlack = new int256[](z);
        int256 shortWh;
        int256 sellerTotal;
        int256 buyerTotal;
        for (uint256 k; k < z; ++k) {
            int256[4] memory c = _zoneCurve(b, ids[k], p);
            e[k] = c[0] - c[3]; // lo
            sellerSlack[k] = c[1] - c[0];
            buyerSlack[k] = c[3] - c[2];
            shortWh -= e[k];
            sellerTotal += sellerSlack[k];
            buyerTotal += buyerSlack[k];
        }
        bool sellers = shortWh <= sellerTotal;
        int256 residual = sellers ? shortWh : shortWh - sellerTotal;
        int256 total = sellers ? sellerTotal : buyerTotal;
        int256 handed;
        for (uint256 k; k < z; ++k) {
            int256 slack = sellers ? sellerSlack[k] : buyerSlack[k];
            int256 share = total == 0 ? int256(0) : slack * residual / total;
            e[k] += share + (sellers ? int256(0) : sellerSlack[k]);
            handed += share;
        }
        for (uint256 k; k < z && handed < residual; ++k) {
            if ((sellers ? sellerSlack[k] : buyerSlack[k]) > 0) {
                e[k] += 1;
                handed += 1;
            }
        }
    }

    /// @dev The fills of one zone at price p with net export e: sellers sell min(S, D + e), buyers buy
    /// that minus e; the long side's ties share pro rata (remainder to the lowest meter ids).
    function _fillZone(
        BookEntry[] memory b,
        uint16 zone,
        uint64 p,
        int256 e,
        uint64[] memory sold,
        uint64[] memory bought
    ) internal pure {
        uint256 n = b.length;
        int256[4] memory c = _zoneCurve(b, zone, p);
        bool sellersRationed = c[1] > c[3] + e;
        bool buyersRationed = c[3] + e > c[1];
        uint64[] memory qty = new uint64[](n);
        bool[] memory tied = new bool[](n);
        for (uint256 i; i < n; ++i) {
            if (b[i].zone != zone) continue;
            qty[i] = b[i].offerWh;
            tied[i] = b[i].ask == p && sellersRationed;
            if (b[i].ask < p || (b[i].ask == p && !sellersRationed)) sold[i] = b[i].offerWh;
        }
        if (sellersRationed) {
            uint64[] memory shares = _proRata(qty, tied, uint256(c[3] + e - c[0]), uint256(c[1] - c[0]));
            for (uint256 i; i < n; ++i) {
                if (tied[i]) sold[i] = shares[i];
            }
        }
        for (uint256 i; i < n; ++i) {
            if (b[i].zone != zone) continue;
            qty[i] = b[i].demandWh;
            tied[i] = b[i].bid == p && buyersRationed;
            if (b[i].demandWh != 0 && (b[i].bid > p || (b[i].bid == p && !buyersRationed))) bought[i] = b[i].demandWh;
        }
        if (buyersRationed) {
            uint64[] memory shares = _proRata(qty, tied, uint256(c[1] - e - c[2]), uint256(c[3] - c[2]));
            for (uint256 i; i < n; ++i) {
                if (tied[i]) bought[i] = shares[i];
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
    function _settle(uint64 interval) internal returns (Clearing memory c) {
        c = _referenceClearing(interval);
        market.settleInterval(interval, c.prices, c.zones, c.entries);
    }

    /// @dev Settles every interval from the market's next one up to and including `last` (time must allow).
    function _settleThrough(uint64 last) internal {
        for (uint64 i = market.nextIntervalToSettle(); i <= last; ++i) {
            _settle(i);
        }
    }

    // ------------------------------------------------------------------ entries

    function _exportAt(Clearing memory c, uint256 i) internal pure returns (uint64) {
        return uint64(c.entries[i].energy >> 192);
    }

    function _importAt(Clearing memory c, uint256 i) internal pure returns (uint64) {
        return uint64(c.entries[i].energy >> 128);
    }

    function _soldAt(Clearing memory c, uint256 i) internal pure returns (uint64) {
        return uint64(c.entries[i].energy >> 64);
    }

    function _boughtAt(Clearing memory c, uint256 i) internal pure returns (uint64) {
        return uint64(c.entries[i].energy);
    }

    function _meterIdAt(Clearing memory c, uint256 i) internal pure returns (uint32) {
        return uint32(c.entries[i].meter >> 64);
    }

    function _ownerAt(Clearing memory c, uint256 i) internal pure returns (address) {
        return address(uint160(c.entries[i].meter >> 96));
    }

    function _zoneAt(Clearing memory c, uint256 i) internal pure returns (uint16) {
        return uint16(c.entries[i].meter >> 48);
    }

    function _sourceAt(Clearing memory c, uint256 i) internal pure returns (uint8) {
        return uint8(c.entries[i].meter >> 40);
    }

    function _setSold(Clearing memory c, uint256 i, uint64 soldWh) internal pure {
        c.entries[i].energy = (c.entries[i].energy & ~(uint256(type(uint64).max) << 64)) | (uint256(soldWh) << 64);
    }

    function _setBought(Clearing memory c, uint256 i, uint64 boughtWh) internal pure {
        c.entries[i].energy = (c.entries[i].energy & ~uint256(type(uint64).max)) | boughtWh;
    }

    function _setExport(Clearing memory c, uint256 i, uint64 exportWh) internal pure {
        c.entries[i].energy = (c.entries[i].energy & ~(uint256(type(uint64).max) << 192)) | (uint256(exportWh) << 192);
    }

    function _setImport(Clearing memory c, uint256 i, uint64 importWh) internal pure {
        c.entries[i].energy = (c.entries[i].energy & ~(uint256(type(uint64).max) << 128)) | (uint256(importWh) << 128);
    }

    /// @dev A deep copy, so a perturbed clearing leaves the original alone.
    function _copy(Clearing memory c) internal pure returns (Clearing memory d) {
        d.prices = IEnergyMarket.Prices({
            priceLowMicroPerKwh: c.prices.priceLowMicroPerKwh,
            priceHighMicroPerKwh: c.prices.priceHighMicroPerKwh,
            priceMicroPerKwh: c.prices.priceMicroPerKwh
        });
        d.zones = new IEnergyMarket.ZoneClearing[](c.zones.length);
        for (uint256 k; k < c.zones.length; ++k) {
            IEnergyMarket.ZoneClearing memory z = c.zones[k];
            d.zones[k] = IEnergyMarket.ZoneClearing(
                z.zone, z.netExportWh, z.priceLowMicroPerKwh, z.priceHighMicroPerKwh, z.priceMicroPerKwh
            );
        }
        d.entries = new IEnergyMarket.Entry[](c.entries.length);
        for (uint256 i; i < c.entries.length; ++i) {
            d.entries[i] = IEnergyMarket.Entry({meter: c.entries[i].meter, energy: c.entries[i].energy});
        }
    }

    // ------------------------------------------------------------------ expected settlement

    /// @dev The trades: inside each zone first, then across zones with what is left. In each round, seller
    /// k's remaining fill covers [S_k, S_k + left_k) of that round's energy and buyer k's [B_k, B_k + left_k),
    /// both cumulated in (zone, meter id) order; each non-empty overlap is one trade, in order of where it
    /// starts (sellers outer, buyers inner gives exactly that order).
    function _trades(Clearing memory c) internal pure returns (Trade[] memory t) {
        uint256 n = c.entries.length;
        uint256[] memory ord = _byZone(c);
        uint256[] memory soldLeft = new uint256[](n);
        uint256[] memory boughtLeft = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            soldLeft[i] = _soldAt(c, i);
            boughtLeft[i] = _boughtAt(c, i);
        }
        Trade[] memory all = new Trade[](2 * n + 1);
        uint256 count;
        uint256 start;
        while (start < n) {
            uint256 end = start;
            while (end < n && _zoneAt(c, ord[end]) == _zoneAt(c, ord[start])) ++end;
            count = _overlaps(ord, start, end, soldLeft, boughtLeft, all, count);
            start = end;
        }
        count = _overlaps(ord, 0, n, soldLeft, boughtLeft, all, count);
        t = new Trade[](count);
        for (uint256 k; k < count; ++k) {
            t[k] = all[k];
        }
    }

    /// @dev Appends the overlaps of positions [from, to) of `ord` to `all`, then takes them off what is left.
    function _overlaps(
        uint256[] memory ord,
        uint256 from,
        uint256 to,
        uint256[] memory soldLeft,
        uint256[] memory boughtLeft,
        Trade[] memory all,
        uint256 count
    ) internal pure returns (uint256) {
        uint256 first = count;
        uint256 sellerStart;
        for (uint256 s = from; s < to; ++s) {
            uint256 sellerEnd = sellerStart + soldLeft[ord[s]];
            uint256 buyerStart;
            for (uint256 b = from; b < to && buyerStart < sellerEnd; ++b) {
                uint256 buyerEnd = buyerStart + boughtLeft[ord[b]];
                uint256 lo = sellerStart > buyerStart ? sellerStart : buyerStart;
                uint256 hi = sellerEnd < buyerEnd ? sellerEnd : buyerEnd;
                if (hi > lo) all[count++] = Trade(ord[s], ord[b], uint64(hi - lo));
                buyerStart = buyerEnd;
            }
            sellerStart = sellerEnd;
        }
        for (uint256 k = first; k < count; ++k) {
            soldLeft[all[k].seller] -= all[k].energyWh;
            boughtLeft[all[k].buyer] -= all[k].energyWh;
        }
        return count;
    }

    function _cost(uint256 energyWh, uint256 price) internal pure returns (uint256) {
        return energyWh * price / 1000;
    }

    function _positive(int256 x) internal pure returns (uint256) {
        return x > 0 ? uint256(x) : 0;
    }

    /// @dev The ledger after settling `c` over book `b` (at the tariffs in force now). Trades pay the
    /// clearing price, unsold export gets feed-in, unmet import costs retail; what escrow cannot pay is
    /// grid debt. The grid receives every payment out of a household's ledger other than to a trade
    /// partner, including what the household's earnings repaid of an earlier debt (as a deposit would).
    function _expected(BookEntry[] memory b, Clearing memory c) internal view returns (Expected memory x) {
        (uint64 feedIn, uint64 retail) = market.tariffs();
        uint64 p = c.prices.priceMicroPerKwh;
        uint256 n = b.length;
        uint256[] memory credits = new uint256[](n);
        uint256[] memory debits = new uint256[](n);
        Trade[] memory t = _trades(c);
        for (uint256 k; k < t.length; ++k) {
            uint256 payment = _cost(t[k].energyWh, p);
            credits[t[k].seller] += payment;
            debits[t[k].buyer] += payment;
            x.tradedWh += t[k].energyWh;
        }
        x.trades = t.length;
        x.balances = new int256[](n);
        for (uint256 i; i < n; ++i) {
            uint256 unsold = _exportAt(c, i) - _soldAt(c, i);
            if (unsold != 0) {
                uint256 payment = _cost(unsold, feedIn);
                credits[i] += payment;
                x.gridDelta -= int256(payment);
                x.toGridWh += unsold;
            }
            int256 afterTrades = b[i].balance + int256(credits[i]) - int256(debits[i]);
            int256 balance = afterTrades;
            uint256 unmet = _importAt(c, i) - _boughtAt(c, i);
            if (unmet != 0) {
                balance -= int256(_cost(unmet, retail));
                x.fromGridWh += unmet;
            }
            // What left the household's positive balance other than to trade partners went to the grid.
            x.gridDelta += int256(_positive(b[i].balance) + credits[i] - debits[i]) - int256(_positive(balance));
            x.balances[i] = balance;
        }
    }

    /// @dev Settles `interval` with the reference clearing and checks the IntervalSettled event (totals,
    /// energy root) and every ledger balance against {_expected}.
    function _settleChecked(uint64 interval) internal returns (Clearing memory c) {
        BookEntry[] memory b = _book(interval);
        c = _clear(b);
        Expected memory x = _expected(b, c);
        int256 gridBefore = _balance(grid);
        bytes32 root = _energyRoot(interval, c);
        vm.expectEmit(true, true, true, true, address(market));
        emit IEnergyMarket.IntervalSettled(
            interval, c.prices.priceMicroPerKwh, x.tradedWh, x.toGridWh, x.fromGridWh, x.trades, 0, root
        );
        market.settleInterval(interval, c.prices, c.zones, c.entries);
        vm.assertEq(market.energyRootOf(interval), root, "energy root");
        for (uint256 i; i < b.length; ++i) {
            vm.assertEq(_balance(b[i].owner), x.balances[i], "household balance after settlement");
        }
        vm.assertEq(_balance(grid), gridBefore + x.gridDelta, "grid balance after settlement");
    }

    /// @dev Trades whose payment breaks the buyer's bid or the seller's ask (both rounded down like the
    /// market's payments), or that pair a seller above or a buyer below the price.
    function _tradeLimitViolations(BookEntry[] memory b, Clearing memory c) internal pure returns (uint256 violations) {
        Trade[] memory t = _trades(c);
        uint64 p = c.prices.priceMicroPerKwh;
        for (uint256 k; k < t.length; ++k) {
            uint256 payment = _cost(t[k].energyWh, p);
            if (payment > _cost(t[k].energyWh, b[t[k].buyer].bid)) ++violations;
            if (payment < _cost(t[k].energyWh, b[t[k].seller].ask)) ++violations;
            if (b[t[k].seller].ask > p || b[t[k].buyer].bid < p) ++violations;
        }
    }

    // ------------------------------------------------------------------ failed settlements and claims

    /// @dev Everything a failed settlement of `interval` must leave alone.
    struct SettleState {
        uint64 next;
        uint256 minted;
        bytes32 root;
        uint256 ledgerSum;
        int256[] balances;
        int256 gridBalance;
        uint256 heldByMarket;
    }

    function _settleState(uint64 interval) internal view returns (SettleState memory s) {
        s.next = market.nextIntervalToSettle();
        s.minted = energyToken.mintedWh(interval);
        s.root = market.energyRootOf(interval);
        s.ledgerSum = _ledgerSum();
        s.balances = new int256[](households.length);
        for (uint256 i; i < households.length; ++i) {
            s.balances[i] = _balance(households[i]);
        }
        s.gridBalance = _balance(grid);
        s.heldByMarket = credit.balanceOf(address(market));
    }

    function _assertSettleUnchanged(uint64 interval, SettleState memory a) internal view {
        SettleState memory b = _settleState(interval);
        vm.assertEq(b.next, a.next, "next interval moved");
        vm.assertEq(b.minted, a.minted, "energy minted");
        vm.assertEq(b.root, a.root, "energy root set");
        vm.assertEq(b.ledgerSum, a.ledgerSum, "ledger sum changed");
        vm.assertEq(b.gridBalance, a.gridBalance, "grid balance changed");
        vm.assertEq(b.heldByMarket, a.heldByMarket, "market holdings changed");
        for (uint256 i; i < a.balances.length; ++i) {
            vm.assertEq(b.balances[i], a.balances[i], "balance changed");
        }
    }

    /// @dev Expects settling `interval` with `c` to revert with `err` and change nothing.
    function _expectSettleRevertAt(uint64 interval, Clearing memory c, bytes memory err) internal {
        SettleState memory before = _settleState(interval);
        vm.expectRevert(err);
        market.settleInterval(interval, c.prices, c.zones, c.entries);
        _assertSettleUnchanged(interval, before);
    }

    /// @dev A clearing written by hand: the hub's bounds (price = midpoint) and (sold, bought) per entry in
    /// meter-id order; meter and reading words from the fixture's copy of the book. The caller sets the zones.
    function _handClearing(uint64 interval, uint64 hubLow, uint64 hubHigh, uint64[2][] memory fills)
        internal
        view
        returns (Clearing memory c)
    {
        c = _referenceClearing(interval);
        require(fills.length == c.entries.length, "test: one fill per entry");
        c.prices = IEnergyMarket.Prices(hubLow, hubHigh, (hubLow + hubHigh) / 2);
        for (uint256 i; i < fills.length; ++i) {
            _setSold(c, i, fills[i][0]);
            _setBought(c, i, fills[i][1]);
        }
    }

    /// @dev Hand-written fills, one [sold, bought] pair per entry in book order.
    function _fills(uint64[2] memory a, uint64[2] memory b) internal pure returns (uint64[2][] memory f) {
        f = new uint64[2][](2);
        (f[0], f[1]) = (a, b);
    }

    function _fills(uint64[2] memory a, uint64[2] memory b, uint64[2] memory c)
        internal
        pure
        returns (uint64[2][] memory f)
    {
        f = new uint64[2][](3);
        (f[0], f[1], f[2]) = (a, b, c);
    }

    function _fills(uint64[2] memory a, uint64[2] memory b, uint64[2] memory c, uint64[2] memory d)
        internal
        pure
        returns (uint64[2][] memory f)
    {
        f = new uint64[2][](4);
        (f[0], f[1], f[2], f[3]) = (a, b, c, d);
    }

    /// @dev A claim for the first leaf of a tree (see {_claimAt}).
    function _claim(address recipient, uint32 sellerMeterId, uint256 tokenId, uint64 energyWh)
        internal
        pure
        returns (IEnergyMarket.EnergyClaim memory)
    {
        return _claimAt(0, recipient, sellerMeterId, tokenId, energyWh);
    }

    /// @dev A claim for the leaf at `index`.
    function _claimAt(uint32 index, address recipient, uint32 sellerMeterId, uint256 tokenId, uint64 energyWh)
        internal
        pure
        returns (IEnergyMarket.EnergyClaim memory)
    {
        return IEnergyMarket.EnergyClaim({
            index: index, recipient: recipient, sellerMeterId: sellerMeterId, tokenId: tokenId, energyWh: energyWh
        });
    }

    function _assertClaim(
        IEnergyMarket.EnergyClaim memory got,
        address recipient,
        uint32 sellerMeterId,
        uint256 tokenId,
        uint64 energyWh
    ) internal pure {
        vm.assertEq(got.recipient, recipient, "claim recipient");
        vm.assertEq(got.sellerMeterId, sellerMeterId, "claim seller");
        vm.assertEq(got.tokenId, tokenId, "claim token id");
        vm.assertEq(got.energyWh, energyWh, "claim energy");
    }

    // ------------------------------------------------------------------ energy leaves

    /// @dev The token id of household i's current meter in `interval`.
    function _tokenId(uint64 interval, uint256 household) internal view returns (uint256) {
        ICommunityRegistry.Meter memory m = registry.meterOf(meterSigners[household]);
        return energyToken.tokenIdOf(interval, m.zone, m.source, m.meterId);
    }

    /// @dev The pooled id under which the grid receives `household`'s unsold energy. Fixture households
    /// 0..11 all have distinct (zone, source) pairs, so each pool holds one household's surplus.
    function _gridPoolId(uint64 interval, uint256 household) internal view returns (uint256) {
        ICommunityRegistry.Meter memory m = registry.meterOf(meterSigners[household]);
        return energyToken.tokenIdOf(interval, m.zone, m.source, 0);
    }

    /// @dev The energy a settlement with `c` owes: one claim per trade (buyer's owner, seller meter's
    /// token id) in trade order, then one per meter with unsold export (grid account, pooled id), in
    /// meter-id order.
    function _energyClaims(uint64 interval, Clearing memory c)
        internal
        view
        returns (IEnergyMarket.EnergyClaim[] memory claims)
    {
        Trade[] memory t = _trades(c);
        uint256 n = c.entries.length;
        uint256 unsoldCount;
        for (uint256 i; i < n; ++i) {
            if (_exportAt(c, i) > _soldAt(c, i)) ++unsoldCount;
        }
        claims = new IEnergyMarket.EnergyClaim[](t.length + unsoldCount);
        for (uint256 k; k < t.length; ++k) {
            uint256 s = t[k].seller;
            claims[k] = IEnergyMarket.EnergyClaim({
                index: uint32(k),
                recipient: _ownerAt(c, t[k].buyer),
                sellerMeterId: _meterIdAt(c, s),
                tokenId: energyToken.tokenIdOf(interval, _zoneAt(c, s), _sourceAt(c, s), _meterIdAt(c, s)),
                energyWh: t[k].energyWh
            });
        }
        uint256 j = t.length;
        address gridAccount = market.gridAccount();
        for (uint256 i; i < n; ++i) {
            uint64 unsold = _exportAt(c, i) - _soldAt(c, i);
            if (unsold == 0) continue;
            claims[j] = IEnergyMarket.EnergyClaim({
                index: uint32(j),
                recipient: gridAccount,
                sellerMeterId: _meterIdAt(c, i),
                tokenId: energyToken.tokenIdOf(interval, _zoneAt(c, i), _sourceAt(c, i), 0),
                energyWh: unsold
            });
            ++j;
        }
    }

    function _claimsSum(IEnergyMarket.EnergyClaim[] memory claims) internal pure returns (uint256 sum) {
        for (uint256 k; k < claims.length; ++k) {
            sum += claims[k].energyWh;
        }
    }

    /// @dev keccak256(bytes.concat(keccak256(abi.encode(interval, index, recipient, sellerMeterId, tokenId,
    /// energyWh)))).
    function _leaf(uint64 interval, IEnergyMarket.EnergyClaim memory claim) internal pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                keccak256(
                    abi.encode(interval, claim.index, claim.recipient, claim.sellerMeterId, claim.tokenId, claim.energyWh)
                )
            )
        );
    }

    /// @dev The leaves of `claims` as a tree in this order: each claim's index is set to its position.
    function _leaves(uint64 interval, IEnergyMarket.EnergyClaim[] memory claims)
        internal
        pure
        returns (bytes32[] memory leaves)
    {
        leaves = new bytes32[](claims.length);
        for (uint256 k; k < claims.length; ++k) {
            claims[k].index = uint32(k);
            leaves[k] = _leaf(interval, claims[k]);
        }
    }

    function _hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encodePacked(a, b)) : keccak256(abi.encodePacked(b, a));
    }

    /// @dev The level above `level`: pairs hashed in sorted order, an odd last node carried up unchanged.
    function _levelUp(bytes32[] memory level) internal pure returns (bytes32[] memory up) {
        up = new bytes32[]((level.length + 1) / 2);
        for (uint256 k; k < up.length; ++k) {
            up[k] = 2 * k + 1 < level.length ? _hashPair(level[2 * k], level[2 * k + 1]) : level[2 * k];
        }
    }

    function _merkleRoot(bytes32[] memory leaves) internal pure returns (bytes32) {
        if (leaves.length == 0) return bytes32(0);
        bytes32[] memory level = leaves;
        while (level.length > 1) {
            level = _levelUp(level);
        }
        return level[0];
    }

    /// @dev The proof of leaf `index`: its sibling on every level where it has one.
    function _merkleProof(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory proof) {
        bytes32[] memory path = new bytes32[](64);
        uint256 len;
        bytes32[] memory level = leaves;
        while (level.length > 1) {
            uint256 sibling = index ^ 1;
            if (sibling < level.length) path[len++] = level[sibling];
            level = _levelUp(level);
            index /= 2;
        }
        proof = new bytes32[](len);
        for (uint256 k; k < len; ++k) {
            proof[k] = path[k];
        }
    }

    function _energyRoot(uint64 interval, Clearing memory c) internal view returns (bytes32) {
        return _merkleRoot(_leaves(interval, _energyClaims(interval, c)));
    }

    /// @dev Claims every leaf of `claims` (anyone may), checking the root first; returns the energy minted.
    function _claimAll(uint64 interval, IEnergyMarket.EnergyClaim[] memory claims) internal returns (uint256 mintedWh) {
        bytes32[] memory leaves = _leaves(interval, claims);
        vm.assertEq(market.energyRootOf(interval), _merkleRoot(leaves), "fixture: energy root differs");
        for (uint256 k; k < claims.length; ++k) {
            uint256 before = energyToken.balanceOf(claims[k].recipient, claims[k].tokenId);
            vm.prank(stranger);
            market.claimEnergy(interval, claims[k], _merkleProof(leaves, k));
            vm.assertEq(
                energyToken.balanceOf(claims[k].recipient, claims[k].tokenId),
                before + claims[k].energyWh,
                "claim minted to its recipient"
            );
            vm.assertTrue(market.isClaimed(leaves[k]), "leaf marked claimed");
            mintedWh += claims[k].energyWh;
        }
    }
}
