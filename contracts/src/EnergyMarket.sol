// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ICommunityRegistry} from "./interfaces/ICommunityRegistry.sol";
import {IBilateralAgreements} from "./interfaces/IBilateralAgreements.sol";
import {IEnergyMarket} from "./interfaces/IEnergyMarket.sol";
import {IEnergyToken} from "./interfaces/IEnergyToken.sol";
import {EnergyRoot} from "./libraries/EnergyRoot.sol";
import {EnergyTokenId} from "./libraries/EnergyTokenId.sol";
import {MeterEntry} from "./libraries/MeterEntry.sol";
import {ZonalPrices} from "./libraries/ZonalPrices.sol";
import {ZonalVerifier} from "./libraries/ZonalVerifier.sol";

/// @title PeerGrid energy market
/// @notice See {IEnergyMarket}. Escrow is an internal ledger backed one to one by the settlement tokens
/// this contract holds; settlement moves ledger balances, never tokens.
/// @dev Per household and interval, the chain does: one signature check and one registry slot read when
/// the reading arrives; one account slot read and one write at settlement; a few hashes. Nothing else
/// is stored per household (see docs/architecture.md, "Gas").
contract EnergyMarket is IEnergyMarket, EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;

    bytes32 public constant READING_TYPEHASH =
        keccak256("Reading(address meter,uint64 interval,uint64 exportWh,uint64 importWh)");
    bytes32 private constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    bytes32 private constant GRID_OPERATOR_ROLE = keccak256("GRID_OPERATOR_ROLE");
    bytes32 private constant METER_GATEWAY_ROLE = keccak256("METER_GATEWAY_ROLE");
    uint256 private constant WH_PER_KWH = 1000;
    // Why {_recordReadings} refused a reading.
    uint256 private constant FAIL_UNKNOWN = 1;
    uint256 private constant FAIL_INACTIVE = 2;
    uint256 private constant FAIL_TOO_EARLY = 3;
    uint256 private constant FAIL_UNSORTED = 4; // and 5: a bad signature

    ICommunityRegistry public immutable registry;
    IEnergyToken public immutable energyToken;
    IERC20 public immutable settlementToken;
    /// @notice The bilateral agreements executed at settlement, before the auction.
    IBilateralAgreements public immutable agreements;
    uint32 public immutable intervalSeconds;
    uint32 public immutable readingWindowSeconds;

    Tariffs public tariffs;
    address public gridAccount;
    uint64 private _nextInterval;

    mapping(uint64 interval => IntervalBook) private _books;
    mapping(uint64 interval => bytes32 root) private _energyRoots;
    mapping(bytes32 leaf => bool) private _claimed;
    mapping(address account => Account) private _accounts;
    mapping(uint16 zone => ZoneConfig) private _zoneConfigs;

    /// @dev A zone's limits as stored; a zone never configured is unlimited and free.
    struct ZoneConfig {
        uint64 importCapWh;
        uint64 exportCapWh;
        uint32 feeMicroPerKwh;
        bool configured;
    }

    /// @dev Running totals of one settlement.
    struct Totals {
        uint256 trades;
        uint256 toGridWh;
        uint256 fromGridWh;
        uint256 gridPays;
        uint256 gridGets;
        uint256 gridFeesMicro;
    }

    /// @dev What the bilateral agreements delivered in one settlement. used[i] = spentMicro << 128 |
    /// soldWh << 64 | boughtWh for entry i (what comes off its escrow and reading before the auction);
    /// money[i] = credit << 128 | debit, the pairing's starting point; deliveries[k] = seller entry << 128 |
    /// buyer entry << 64 | energyWh for the k-th due agreement. All empty when no agreement is due.
    struct Bilateral {
        uint256[] used;
        uint256[] money;
        uint256[] deliveries;
    }

    /// @dev The trade pairing's working state, one word per entry in each array (fewer, packed arrays keep
    /// memory, whose cost grows quadratically, small): work[i] = price << 128 | soldLeft << 64 | boughtLeft
    /// (the price is the entry's zone's), money[i] = credit << 128 | debit; and the energy leaves so far.
    struct Pairing {
        uint64 interval;
        uint256[] work;
        uint256[] money;
        bytes32[] leaves;
        uint256 leafCount;
        uint256 trades;
        uint256 feesMicro;
    }

    modifier onlyRegistryRole(bytes32 role) {
        _checkRegistryRole(role);
        _;
    }

    /// @dev A function, not the modifier's body, so its code is not copied into every function using it.
    function _checkRegistryRole(bytes32 role) private view {
        if (!IAccessControl(address(registry)).hasRole(role, msg.sender)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(msg.sender, role);
        }
    }

    /// @param firstInterval the first interval this market settles (usually the current one)
    constructor(
        ICommunityRegistry registry_,
        IEnergyToken energyToken_,
        IERC20 settlementToken_,
        IBilateralAgreements agreements_,
        address gridAccount_,
        uint32 intervalSeconds_,
        uint32 readingWindowSeconds_,
        uint64 firstInterval,
        Tariffs memory tariffs_
    ) EIP712("PeerGrid", "1") {
        if (intervalSeconds_ == 0) revert InvalidTiming(intervalSeconds_, readingWindowSeconds_);
        registry = registry_;
        energyToken = energyToken_;
        settlementToken = settlementToken_;
        agreements = agreements_;
        gridAccount = gridAccount_;
        intervalSeconds = intervalSeconds_;
        readingWindowSeconds = readingWindowSeconds_;
        _nextInterval = firstInterval;
        _setTariffs(tariffs_);
    }

    // ------------------------------------------------------------------ readings

    /// @inheritdoc IEnergyMarket
    function submitReadings(uint64 interval, SignedReading[] calldata readings)
        external
        onlyRegistryRole(METER_GATEWAY_ROLE)
        returns (uint256 recorded)
    {
        if (interval < _nextInterval) revert IntervalAlreadySettled(interval);
        uint256 startsAt = uint256(interval) * intervalSeconds;
        uint256 endsAt = startsAt + intervalSeconds;
        if (block.timestamp < endsAt) revert IntervalNotEnded(interval, endsAt);
        if (block.timestamp >= endsAt + readingWindowSeconds) {
            revert ReadingWindowClosed(interval, endsAt + readingWindowSeconds);
        }
        IntervalBook memory book = _books[interval];
        uint256 n = readings.length;
        uint256[] memory meters = _meterWords(readings);
        (uint256 failure, uint256 at, bytes32 head, uint256 last, uint256 added) =
            _recordReadings(readings, meters, interval, startsAt, book.head, book.lastMeterId);
        if (failure != 0) {
            SignedReading calldata r = readings[at];
            uint256 m = meters[at];
            if (failure == FAIL_UNKNOWN) revert UnknownMeter(r.meter);
            if (failure == FAIL_INACTIVE) revert MeterInactive(r.meter);
            if (failure == FAIL_TOO_EARLY) revert ReadingBeforeMeterRegistered(r.meter, interval, uint32(m >> 224));
            if (failure == FAIL_UNSORTED) revert ReadingsNotSorted(uint32(m >> 160));
            revert InvalidReadingSignature(r.meter, interval);
        }
        book.head = head;
        book.lastMeterId = uint32(last);
        book.count += uint32(added);
        recorded = added;
        if (recorded != 0) {
            _books[interval] = book;
            emit ReadingsRecorded(interval, uint32(recorded), book.lastMeterId, book.head);
        }
    }

    /// @dev registry.meterWords(the readings' meters), with the call encoded straight from the calldata and
    /// the answer copied straight into the result: no intermediate address array, and no re-encoding or
    /// decoding copies (this runs once per reading). The registry is trusted (immutable); a dirty address
    /// makes it revert, as the ABI decoder would.
    function _meterWords(SignedReading[] calldata readings) private view returns (uint256[] memory meters) {
        uint256 n = readings.length;
        meters = new uint256[](n);
        address target = address(registry);
        bytes4 selector = ICommunityRegistry.meterWords.selector;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, selector)
            mstore(add(p, 0x04), 0x20)
            mstore(add(p, 0x24), n)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                mstore(add(add(p, 0x44), shl(5, i)), calldataload(add(readings.offset, mul(i, 0xa0))))
            }
            if iszero(staticcall(gas(), target, p, add(0x44, shl(5, n)), 0x00, 0x00)) {
                returndatacopy(p, 0x00, returndatasize())
                revert(p, returndatasize())
            }
            if iszero(eq(returndatasize(), add(0x40, shl(5, n)))) { revert(0x00, 0x00) }
            returndatacopy(add(meters, 0x20), 0x40, shl(5, n))
        }
    }

    /// @dev The per-reading loop of {submitReadings}, in order: the meter is known (`meters` holds the
    /// registry's packed records, see ICommunityRegistry.meterWords) and active, registered before the
    /// interval began (one owner, one meter per interval: an owner's escrow backs a single entry in the
    /// book), in increasing meter id, and signed by its key (EIP-712 `Reading`, EIP-2098 compact signature,
    /// low s only, as OpenZeppelin's ECDSA) — the signature is checked before the duplicate test so a forged
    /// batch always reverts; readings at or below the book's last meter id were recorded by an earlier batch
    /// and are skipped; the others are chained into the book's head. Stops at the first refused reading and
    /// returns why (a FAIL_* code) and where, for the caller to revert with the error.
    /// In assembly: per reading this is one signature recovery and a few hashes, which Solidity wraps in
    /// ~750 instructions of calls and checks; by hand it is ~2k gas cheaper per reading. Calldata fields are
    /// validated as the ABI decoder would (a dirty address or uint64 reverts).
    function _recordReadings(
        SignedReading[] calldata readings,
        uint256[] memory meters,
        uint64 interval,
        uint256 startsAt,
        bytes32 head,
        uint256 last
    ) private view returns (uint256 failure, uint256 at, bytes32, uint256, uint256 added) {
        bytes32 domainSeparator = _domainSeparatorV4();
        bytes32 typeHash = READING_TYPEHASH;
        assembly ("memory-safe") {
            let p := mload(0x40)
            let previous := 0
            let n := readings.length
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let r := add(readings.offset, mul(i, 0xa0))
                let meter := calldataload(r)
                let exportWh := calldataload(add(r, 0x20))
                let importWh := calldataload(add(r, 0x40))
                if or(shr(160, meter), or(shr(64, exportWh), shr(64, importWh))) { revert(0, 0) }
                let m := mload(add(add(meters, 0x20), shl(5, i)))
                let meterId := and(shr(160, m), 0xffffffff)
                at := i
                if iszero(and(m, 0xffffffffffffffffffffffffffffffffffffffff)) {
                    failure := 1 // FAIL_UNKNOWN
                    break
                }
                if iszero(and(shr(216, m), 0xff)) {
                    failure := 2 // FAIL_INACTIVE
                    break
                }
                if lt(startsAt, shr(224, m)) {
                    failure := 3 // FAIL_TOO_EARLY
                    break
                }
                if iszero(gt(meterId, previous)) {
                    failure := 4 // FAIL_UNSORTED
                    break
                }
                previous := meterId
                // digest = keccak256("\x19\x01" || domainSeparator || keccak256(abi.encode(typeHash, meter,
                // interval, exportWh, importWh)))
                mstore(p, typeHash)
                mstore(add(p, 0x20), meter)
                mstore(add(p, 0x40), and(interval, 0xffffffffffffffff))
                mstore(add(p, 0x60), exportWh)
                mstore(add(p, 0x80), importWh)
                let structHash := keccak256(p, 0xa0)
                mstore(p, 0x1901)
                mstore(add(p, 0x20), domainSeparator)
                mstore(add(p, 0x40), structHash)
                let digest := keccak256(add(p, 0x1e), 0x42)
                // ecrecover(digest, v, r, s) with vs = (v - 27) << 255 | s; s in the lower half of the order
                let vs := calldataload(add(r, 0x80))
                let sig := and(vs, 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff)
                if gt(sig, 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0) {
                    failure := 5 // a bad signature
                    break
                }
                mstore(p, digest)
                mstore(add(p, 0x20), add(shr(255, vs), 27))
                mstore(add(p, 0x40), calldataload(add(r, 0x60)))
                mstore(add(p, 0x60), sig)
                mstore(0x00, 0)
                pop(staticcall(gas(), 1, p, 0x80, 0x00, 0x20))
                let signer := mload(0x00)
                if or(iszero(signer), iszero(eq(signer, meter))) {
                    failure := 5 // a bad signature
                    break
                }
                if gt(meterId, last) {
                    // head' = keccak256(head, meter word, reading word) (MeterEntry.chain)
                    mstore(p, head)
                    mstore(
                        add(p, 0x20),
                        or(
                            or(shl(96, and(m, 0xffffffffffffffffffffffffffffffffffffffff)), shl(64, meterId)),
                            or(shl(48, and(shr(192, m), 0xffff)), shl(40, and(shr(208, m), 0xff)))
                        )
                    )
                    mstore(add(p, 0x40), or(shl(192, exportWh), shl(128, importWh)))
                    head := keccak256(p, 0x60)
                    last := meterId
                    added := add(added, 1)
                }
            }
        }
        return (failure, at, head, last, added);
    }

    /// @inheritdoc IEnergyMarket
    function readingDigest(address meter, uint64 interval, uint64 exportWh, uint64 importWh)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(_readingHash(meter, interval, exportWh, importWh));
    }

    /// @dev keccak256(abi.encode(READING_TYPEHASH, meter, interval, exportWh, importWh)) in scratch memory.
    function _readingHash(address meter, uint64 interval, uint64 exportWh, uint64 importWh)
        private
        pure
        returns (bytes32 h)
    {
        bytes32 typeHash = READING_TYPEHASH;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, typeHash)
            mstore(add(p, 0x20), and(meter, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(p, 0x40), and(interval, 0xffffffffffffffff))
            mstore(add(p, 0x60), and(exportWh, 0xffffffffffffffff))
            mstore(add(p, 0x80), and(importWh, 0xffffffffffffffff))
            h := keccak256(p, 0xa0)
        }
    }

    // ------------------------------------------------------------------ orders and escrow

    /// @inheritdoc IEnergyMarket
    function setStandingOrder(StandingOrder calldata order) external {
        if (!registry.participant(msg.sender).active) revert NotAnActiveParticipant(msg.sender);
        if (
            (order.maxBuyWh == 0) != (order.bidMicroPerKwh == 0) || order.askMicroPerKwh > type(uint32).max
                || order.maxSellWh > type(uint32).max || order.bidMicroPerKwh > type(uint32).max
                || order.maxBuyWh > type(uint32).max
        ) revert InvalidOrder(msg.sender);
        Account storage a = _accounts[msg.sender];
        if (order.maxBuyWh != 0) {
            // What the order can cost at most, rounded up.
            uint256 bid = _min64(order.bidMicroPerKwh, tariffs.retailMicroPerKwh);
            uint256 required = (order.maxBuyWh * bid + WH_PER_KWH - 1) / WH_PER_KWH;
            uint256 available = _positive(a.balanceMicro);
            if (available < required) revert InsufficientEscrow(msg.sender, required, available);
        }
        a.askMicroPerKwh = uint32(order.askMicroPerKwh);
        a.maxSellWh = uint32(order.maxSellWh);
        a.bidMicroPerKwh = uint32(order.bidMicroPerKwh);
        a.maxBuyWh = uint32(order.maxBuyWh);
        emit StandingOrderSet(msg.sender, order.askMicroPerKwh, order.maxSellWh, order.bidMicroPerKwh, order.maxBuyWh);
    }

    /// @notice Escrowed settlement tokens of `account`.
    function balanceOf(address account) external view returns (uint256) {
        return _positive(_accounts[account].balanceMicro);
    }

    /// @inheritdoc IEnergyMarket
    function depositFor(address account, uint256 amount) external nonReentrant {
        if (amount == 0) revert InvalidAmount(amount);
        if (account != gridAccount && !registry.participant(account).registered) revert NotAnActiveParticipant(account);
        uint256 before = settlementToken.balanceOf(address(this));
        settlementToken.safeTransferFrom(msg.sender, address(this), amount);
        // Credit what arrived, so fee-on-transfer tokens cannot inflate the ledger.
        uint256 received = settlementToken.balanceOf(address(this)) - before;
        if (received > uint256(uint128(type(int128).max)) / 2) revert InvalidAmount(received);
        Account storage a = _accounts[account];
        int256 balance = a.balanceMicro;
        uint256 repaid = balance < 0 ? _min(uint256(-balance), received) : 0;
        if (repaid != 0) _accounts[gridAccount].balanceMicro += int128(int256(repaid));
        if (balance + int256(received) > type(int128).max) revert InvalidAmount(received);
        a.balanceMicro = int128(balance + int256(received));
        emit Deposited(account, msg.sender, received, repaid);
    }

    /// @inheritdoc IEnergyMarket
    function withdraw(uint256 amount) external nonReentrant {
        if (amount == 0) revert InvalidAmount(amount);
        Account storage a = _accounts[msg.sender];
        uint256 available = _positive(a.balanceMicro);
        if (available < amount) revert InsufficientEscrow(msg.sender, amount, available);
        a.balanceMicro -= int128(int256(amount));
        settlementToken.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    // ------------------------------------------------------------------ clearing and settlement

    /// @inheritdoc IEnergyMarket
    function settleInterval(uint64 interval, Prices calldata prices, ZoneClearing[] calldata zones, Entry[] calldata entries)
        external
        nonReentrant
    {
        if (interval != _nextInterval) revert IntervalOutOfOrder(interval, _nextInterval);
        uint256 closesAt = (uint256(interval) + 1) * intervalSeconds + readingWindowSeconds;
        if (block.timestamp < closesAt) revert IntervalNotClosed(interval, closesAt);
        IntervalBook memory book = _books[interval];
        uint256 n = entries.length;
        if (n != book.count) revert ClearingIncomplete(interval, n, book.count);

        Tariffs memory t = tariffs;
        Bilateral memory b = _executeAgreements(interval, entries);
        (uint256[] memory orders, bytes32 head) = _bookOrders(entries, b, t);
        if (head != book.head) revert EntriesDoNotMatchReadings(interval);
        ZoneLimits[] memory limits = new ZoneLimits[](zones.length);
        for (uint256 k; k < zones.length; ++k) {
            limits[k] = zoneLimitsOf(zones[k].zone);
        }
        (ZonalPrices.Zone[] memory verified, uint256[] memory zoneOf, uint256 tradedWh) =
            ZonalVerifier.verify(orders, entries, prices, zones, limits, t.feedInMicroPerKwh, t.retailMicroPerKwh);

        _nextInterval = interval + 1;
        (Totals memory totals, bytes32 root) = _settle(interval, entries, verified, zoneOf, b, t);
        _energyRoots[interval] = root;
        for (uint256 k; k < verified.length; ++k) {
            ZonalPrices.Zone memory z = verified[k];
            emit ZoneCleared(interval, z.id, int64(z.netExportWh), z.price, z.capacityBound);
        }
        emit IntervalSettled(
            interval,
            prices.priceMicroPerKwh,
            tradedWh,
            totals.toGridWh,
            totals.fromGridWh,
            totals.trades,
            totals.gridFeesMicro,
            root
        );
    }

    /// @dev Executes the agreements due in `interval` (see {IBilateralAgreements}), in their order: each
    /// delivers min(its cap, what the seller's reading has left to export, what the buyer's has left to
    /// import, what the buyer's escrow has left to pay at its price). A party without a reading this
    /// interval (no meter, or a meter replaced since) gets no delivery.
    function _executeAgreements(uint64 interval, Entry[] calldata entries) private returns (Bilateral memory b) {
        uint256 n = entries.length;
        b.money = new uint256[](n);
        IBilateralAgreements.Due[] memory due = agreements.dueAt(interval);
        if (due.length == 0) return b;
        b.used = new uint256[](n);
        b.deliveries = new uint256[](due.length);
        for (uint256 k; k < due.length; ++k) {
            IBilateralAgreements.Due memory d = due[k];
            uint256 si = _entryOf(entries, registry.participant(d.seller).meterId);
            uint256 bi = _entryOf(entries, registry.participant(d.buyer).meterId);
            uint64 energyWh;
            uint256 cost;
            if (si != n && bi != n) {
                uint256 su = b.used[si];
                uint256 bu = b.used[bi];
                uint256 spent = bu >> 128;
                uint256 affordableWh = (_positive(_accounts[d.buyer].balanceMicro) - spent) * WH_PER_KWH / d.priceMicroPerKwh;
                energyWh = _min64(
                    _min64(d.maxWhPerInterval, MeterEntry.exportWh(entries[si].energy) - uint64(su >> 64)),
                    uint64(_min(MeterEntry.importWh(entries[bi].energy) - uint64(bu), affordableWh))
                );
                cost = _cost(energyWh, d.priceMicroPerKwh);
                b.used[si] = su + (uint256(energyWh) << 64);
                b.used[bi] += (cost << 128) + energyWh;
                b.money[si] += cost << 128;
                b.money[bi] += cost;
                b.deliveries[k] = (si << 128) | (bi << 64) | energyWh;
            }
            emit AgreementDelivered(d.id, interval, energyWh, cost);
        }
    }

    /// @dev Index of the entry of meter `meterId` (entries are sorted by meter id), or entries.length.
    function _entryOf(Entry[] calldata entries, uint32 meterId) private pure returns (uint256) {
        uint256 lo;
        uint256 hi = entries.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            uint32 id = MeterEntry.meterId(entries[mid].meter);
            if (id == meterId) return mid;
            if (id < meterId) lo = mid + 1;
            else hi = mid;
        }
        return entries.length;
    }

    /// @dev Rehashes the entries' readings into the book's head and computes each meter's effective order:
    /// its standing order capped by its reading and, on the buy side, by what its escrow pays at its own limit
    /// price, prices clamped into [feed-in, retail] (one word per meter, packed as ZonalVerifier describes). What
    /// bilateral agreements took (see {Bilateral}) comes off the reading and the escrow first.
    /// In assembly: this loop runs once per household and is, after the account's cold slot, mostly
    /// overhead in Solidity (function calls, bounds and overflow checks that cannot fail here); by hand it
    /// costs ~1.3k gas less per household. The account slot is read as a word; layout (Solidity packs struct
    /// members from the low end): balanceMicro bits 0-127 (int128), ask 128-159, maxSell 160-191, bid
    /// 192-223, maxBuy 224-255. A buying order always has a bid (setStandingOrder) and retail is positive,
    /// so the division by the bid is never by zero; balances are int128, so products stay far below 2^256.
    function _bookOrders(Entry[] calldata entries, Bilateral memory b, Tariffs memory t)
        private
        view
        returns (uint256[] memory orders, bytes32 head)
    {
        uint256 n = entries.length;
        orders = new uint256[](n);
        uint256 accountsSlot;
        assembly ("memory-safe") {
            accountsSlot := _accounts.slot
        }
        uint256 feedIn = t.feedInMicroPerKwh;
        uint256 retail = t.retailMicroPerKwh;
        uint256[] memory used = b.used;
        bool anyUsed = b.deliveries.length != 0;
        assembly ("memory-safe") {
            let u64 := 0xffffffffffffffff
            let scratch := mload(0x40)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let p := add(entries.offset, shl(6, i))
                let meter := calldataload(p)
                let energy := calldataload(add(p, 0x20))
                // head' = keccak256(head, meter word, reading word) (MeterEntry.chain)
                mstore(scratch, head)
                mstore(add(scratch, 0x20), meter)
                mstore(add(scratch, 0x40), and(energy, not(sub(shl(128, 1), 1))))
                head := keccak256(scratch, 0x60)
                // _accounts[owner]: owner is the meter word's top 160 bits
                mstore(0x00, shr(96, meter))
                mstore(0x20, accountsSlot)
                let a := sload(keccak256(0x00, 0x40))
                let u := 0
                if anyUsed { u := mload(add(add(used, 0x20), shl(5, i))) }
                let offer := sub(shr(192, energy), and(shr(64, u), u64))
                let maxSell := and(shr(160, a), 0xffffffff)
                if lt(maxSell, offer) { offer := maxSell }
                let ask := and(shr(128, a), 0xffffffff)
                if lt(ask, feedIn) { ask := feedIn }
                let demand := 0
                let bid := 0
                let maxBuy := shr(224, a)
                if maxBuy {
                    bid := and(shr(192, a), 0xffffffff)
                    if gt(bid, retail) { bid := retail }
                    demand := sub(and(shr(128, energy), u64), and(u, u64))
                    if lt(maxBuy, demand) { demand := maxBuy }
                    let escrow := signextend(15, a)
                    if slt(escrow, 0) { escrow := 0 }
                    let affordable := div(mul(sub(escrow, shr(128, u)), 1000), bid)
                    if lt(affordable, demand) { demand := affordable }
                }
                mstore(add(add(orders, 0x20), shl(5, i)), or(or(shl(192, offer), shl(128, ask)), or(shl(64, demand), bid)))
            }
        }
    }

    /// @dev Pairs sellers and buyers (see {_pairAll}), sells unsold export to the grid at feed-in and buys
    /// unmet import from it at retail, writing every account once (see {_settleAccounts}), then the grid's
    /// account once. Returns the totals and the energy root.
    function _settle(
        uint64 interval,
        Entry[] calldata entries,
        ZonalPrices.Zone[] memory zones,
        uint256[] memory zoneOf,
        Bilateral memory b,
        Tariffs memory t
    ) private returns (Totals memory totals, bytes32 root) {
        Pairing memory w = _pairAll(interval, entries, zones, zoneOf, b);
        totals.trades = w.trades;
        totals.gridFeesMicro = w.feesMicro;
        totals.gridGets = w.feesMicro;
        address grid = gridAccount;
        bytes32[] memory leaves = w.leaves;
        uint256 leafCount = _settleAccounts(interval, entries, w, b, t, totals, grid);
        Account storage g = _accounts[grid];
        uint256 gridAvailable = _positive(g.balanceMicro) + totals.gridGets;
        if (gridAvailable < totals.gridPays) revert InsufficientGridEscrow(totals.gridPays, gridAvailable);
        g.balanceMicro = g.balanceMicro + int128(int256(totals.gridGets)) - int128(int256(totals.gridPays));
        root = EnergyRoot.root(leaves, leafCount);
        // Give back the leaves' unwritten tail (the last allocation), so that what comes next (the events)
        // does not pay memory expansion for it.
        assembly ("memory-safe") {
            mstore(leaves, leafCount)
            mstore(0x40, add(add(leaves, 0x20), shl(5, leafCount)))
        }
    }

    /// @dev The per-household half of {_settle}: sells each meter's unsold export to the grid at feed-in
    /// (one energy leaf, under the pooled token id), buys its unmet import from the grid at retail, and
    /// writes its balance: before + credit (trades, agreements, grid sale) - debit - grid charge. Sales
    /// first repay grid debt to the grid account, as a deposit does; what escrow cannot pay becomes debt (a
    /// negative balance). The trades' debit never exceeds a positive balance: demand was capped to what
    /// escrow pays at the buyer's limit, and its zone's price is not above that limit. Adds to `totals` and
    /// returns the number of leaves.
    /// In assembly for the reasons given at {_bookOrders}: quantities were bounded by the verifier (sold <=
    /// export, bought <= import), money is below 2^128, and the balance stays an int128 (its low 128 bits
    /// are replaced, the order's high 128 bits kept).
    function _settleAccounts(
        uint64 interval,
        Entry[] calldata entries,
        Pairing memory w,
        Bilateral memory b,
        Tariffs memory t,
        Totals memory totals,
        address grid
    ) private returns (uint256 leafCount) {
        uint256 n = entries.length;
        uint256 accountsSlot;
        assembly ("memory-safe") {
            accountsSlot := _accounts.slot
        }
        uint256 feedIn = t.feedInMicroPerKwh;
        uint256 retail = t.retailMicroPerKwh;
        uint256[] memory money = w.money;
        uint256[] memory used = b.used;
        bool anyUsed = b.deliveries.length != 0;
        bytes32[] memory leaves = w.leaves;
        leafCount = w.leafCount;
        assembly ("memory-safe") {
            interval := and(interval, 0xffffffffffffffff)
            grid := and(grid, 0xffffffffffffffffffffffffffffffffffffffff)
            // Totals' fields by declaration order: toGridWh 0x20, fromGridWh 0x40, gridPays 0x60, gridGets 0x80.
            function addTo(ptr, value) {
                mstore(ptr, add(mload(ptr), value))
            }
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let meter := calldataload(add(entries.offset, shl(6, i)))
                let energy := calldataload(add(add(entries.offset, shl(6, i)), 0x20))
                let m := mload(add(add(money, 0x20), shl(5, i)))
                let credit := shr(128, m)
                let u := 0
                if anyUsed { u := mload(add(add(used, 0x20), shl(5, i))) }
                // unsold = export - delivered by agreements - sold in the auction
                let unsold := sub(sub(shr(192, energy), and(shr(64, u), 0xffffffffffffffff)), and(shr(64, energy), 0xffffffffffffffff))
                if unsold {
                    let payment := div(mul(unsold, feedIn), 1000)
                    credit := add(credit, payment)
                    addTo(add(totals, 0x60), payment)
                    addTo(add(totals, 0x20), unsold)
                    // The grid's leaf, under the pooled token id (EnergyTokenId.encode without the meter id).
                    appendLeaf(
                        leaves,
                        leafCount,
                        interval,
                        grid,
                        and(shr(64, meter), 0xffffffff),
                        or(shl(72, interval), or(shl(40, and(shr(48, meter), 0xffff)), shl(32, and(shr(40, meter), 0xff)))),
                        unsold
                    )
                    leafCount := add(leafCount, 1)
                }
                mstore(0x00, shr(96, meter))
                mstore(0x20, accountsSlot)
                let slot := keccak256(0x00, 0x40)
                let a := sload(slot)
                let before := signextend(15, a)
                if slt(before, 0) {
                    let debt := sub(0, before)
                    if lt(credit, debt) { debt := credit }
                    addTo(add(totals, 0x80), debt)
                }
                let after := sub(add(before, credit), and(m, 0xffffffffffffffffffffffffffffffff))
                // unmet = import - delivered by agreements - bought in the auction
                let unmet := sub(sub(and(shr(128, energy), 0xffffffffffffffff), and(u, 0xffffffffffffffff)), and(energy, 0xffffffffffffffff))
                if unmet {
                    let charge := div(mul(unmet, retail), 1000)
                    let paid := 0
                    if sgt(after, 0) { paid := after }
                    if lt(charge, paid) { paid := charge }
                    addTo(add(totals, 0x80), paid)
                    addTo(add(totals, 0x40), unmet)
                    after := sub(after, charge)
                }
                sstore(slot, or(and(a, not(0xffffffffffffffffffffffffffffffff)), and(after, 0xffffffffffffffffffffffffffffffff)))
            }
            // EnergyRoot.append in Yul (keep the two in step).
            function appendLeaf(leaves_, index, interval_, recipient, sellerMeterId, tokenId, energyWh) {
                let q := add(add(leaves_, 0x20), shl(5, index))
                mstore(q, interval_)
                mstore(add(q, 0x20), index)
                mstore(add(q, 0x40), recipient)
                mstore(add(q, 0x60), sellerMeterId)
                mstore(add(q, 0x80), tokenId)
                mstore(add(q, 0xa0), energyWh)
                mstore(0x00, keccak256(q, 0xc0))
                mstore(q, keccak256(0x00, 0x20))
            }
        }
    }

    /// @dev Pairs what sellers sold with what buyers bought: inside each zone first (sellers and buyers in
    /// meter-id order, a two-pointer walk), then what exporting zones have left with what importing zones
    /// still need, in zone order — so the energy crossing zones adds up to the zones' flows. Each trade pays
    /// the seller at its zone's price and charges the buyer at its own; the difference (import fee and
    /// congestion rent, never negative because exporting zones' prices are not above importing zones')
    /// goes to the grid. Every trade exhausts a seller or a buyer, so there are fewer than 2n of them.
    function _pairAll(
        uint64 interval,
        Entry[] calldata entries,
        ZonalPrices.Zone[] memory zones,
        uint256[] memory zoneOf,
        Bilateral memory b
    ) private pure returns (Pairing memory w) {
        uint256 n = entries.length;
        w.interval = interval;
        w.work = new uint256[](n);
        w.money = b.money;
        uint256[] memory work = w.work;
        uint256[] memory byZone;
        uint256[] memory zoneStart;
        unchecked {
            uint256[] memory zonePrice = new uint256[](zones.length);
            for (uint256 k; k < zones.length; ++k) {
                zonePrice[k] = zones[k].price;
            }
            assembly ("memory-safe") {
                // work[i] = its zone's price << 128 | the entry's low 128 bits (sold << 64 | bought: what it
                // has left to trade, to begin with)
                for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                    let price := mload(add(add(zonePrice, 0x20), shl(5, mload(add(add(zoneOf, 0x20), shl(5, i))))))
                    let energy := calldataload(add(add(entries.offset, shl(6, i)), 0x20))
                    mstore(add(add(work, 0x20), shl(5, i)), or(shl(128, price), and(energy, sub(shl(128, 1), 1))))
                }
            }
            uint256 zoneCount = zones.length;
            if (zoneCount > 1) (byZone, zoneStart) = _groupByZone(zoneOf, zoneCount);
            // Position ranges the walks cover (see {_pair}), allocated before the leaves: one zone's, and
            // those left for the walk across zones.
            uint256[] memory zoneRange = new uint256[](1);
            uint256[] memory sellerRanges = new uint256[](zoneCount);
            uint256[] memory buyerRanges = new uint256[](zoneCount);
            // Every trade exhausts a seller or a buyer, and every grid sale is a seller's: fewer than 3n
            // leaves. Allocated last and not zeroed, so memory is paid for the leaves written (see
            // {_uninitialized}).
            w.leaves = _uninitialized(3 * n + b.deliveries.length);
            // The agreements' deliveries come first, in execution order.
            for (uint256 k; k < b.deliveries.length; ++k) {
                uint256 d = _at(b.deliveries, k);
                uint64 energyWh = uint64(d);
                if (energyWh == 0) continue;
                uint256 seller = entries[d >> 128].meter;
                EnergyRoot.append(
                    w.leaves,
                    w.leafCount++,
                    interval,
                    MeterEntry.owner(entries[uint64(d >> 64)].meter),
                    MeterEntry.meterId(seller),
                    _tokenId(interval, seller),
                    energyWh
                );
            }
            if (zoneCount < 2) {
                _set(zoneRange, 0, n);
                _pair(w, entries, byZone, zoneRange, zoneRange);
                return w;
            }
            // Inside each zone; then across zones, where sellers are left only in exporting zones and buyers
            // only in importing ones, from where each zone's walk stopped (everything before it is exhausted).
            // That is the walk over all positions in zone order, without stepping over the exhausted ones.
            uint256 sellersLeft;
            uint256 buyersLeft;
            for (uint256 k; k < zoneCount; ++k) {
                uint256 end = zoneStart[k + 1];
                _set(zoneRange, 0, zoneStart[k] << 128 | end);
                (uint256 s, uint256 bp) = _pair(w, entries, byZone, zoneRange, zoneRange);
                if (s < end) _set(sellerRanges, sellersLeft++, s << 128 | end);
                if (bp < end) _set(buyerRanges, buyersLeft++, bp << 128 | end);
            }
            assembly ("memory-safe") {
                mstore(sellerRanges, sellersLeft)
                mstore(buyerRanges, buyersLeft)
            }
            _pair(w, entries, byZone, sellerRanges, buyerRanges);
        }
    }

    /// @dev Entry indexes grouped by zone, meter-id order kept inside each zone (a counting sort); zone k's
    /// entries are at positions [zoneStart[k], zoneStart[k + 1]).
    function _groupByZone(uint256[] memory zoneOf, uint256 zoneCount)
        private
        pure
        returns (uint256[] memory byZone, uint256[] memory zoneStart)
    {
        uint256 n = zoneOf.length;
        zoneStart = new uint256[](zoneCount + 1);
        byZone = new uint256[](n);
        uint256[] memory next = new uint256[](zoneCount);
        // In assembly, as the other per-household loops (see {_bookOrders}); zoneOf[i] < zoneCount.
        assembly ("memory-safe") {
            let counts := add(zoneStart, 0x40) // zoneStart[k + 1]
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let p := add(counts, shl(5, mload(add(add(zoneOf, 0x20), shl(5, i)))))
                mstore(p, add(mload(p), 1))
            }
            for { let k := 0 } lt(k, zoneCount) { k := add(k, 1) } {
                let start := mload(add(add(zoneStart, 0x20), shl(5, k)))
                let p := add(counts, shl(5, k))
                mstore(p, add(mload(p), start))
                mstore(add(add(next, 0x20), shl(5, k)), start)
            }
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let p := add(add(next, 0x20), shl(5, mload(add(add(zoneOf, 0x20), shl(5, i)))))
                let position := mload(p)
                mstore(p, add(position, 1))
                mstore(add(add(byZone, 0x20), shl(5, position)), i)
            }
        }
    }

    /// @dev The two-pointer walk: sellers over the positions of `sellerRanges`, buyers over those of
    /// `buyerRanges` (each range from << 128 | to, in order), positions being entry indexes through `order`
    /// (the identity when empty). A trade of e Wh takes e from the seller's sold-left and the buyer's
    /// bought-left (bits 64-127 and 0-63 of their work words), adds what the seller receives at its zone's
    /// price (bits 128-191) to its credit (the high 128 bits of money) and what the buyer pays at its own
    /// zone's price to its debit, and appends the leaf (buyer's owner, seller's meter and token id, e).
    /// Returns where the two cursors stopped: at the first seller (buyer) with energy left, or at the end of
    /// the last range. In assembly for the reasons given at {_bookOrders}; every index is below n, every
    /// quantity a uint64 and every price a uint32.
    function _pair(
        Pairing memory w,
        Entry[] calldata entries,
        uint256[] memory order,
        uint256[] memory sellerRanges,
        uint256[] memory buyerRanges
    ) private pure returns (uint256 s, uint256 b) {
        uint256[] memory work = w.work;
        uint256[] memory money = w.money;
        bytes32[] memory leaves = w.leaves;
        uint256 interval = w.interval;
        uint256 leafCount = w.leafCount;
        uint256 trades = w.trades;
        uint256 fees = w.feesMicro;
        assembly ("memory-safe") {
            // The next position in `ranges` from `pos` (range `r`, ending at `to`) whose entry has energy
            // left on the side `shift` selects (64: sold, 0: bought); found = 0 when there is none.
            function next(ranges, r, pos, to, order_, workP, shift) -> r_, pos_, to_, i, found {
                r_ := r
                pos_ := pos
                to_ := to
                for {} 1 {} {
                    if lt(pos_, to_) {
                        i := pos_
                        if mload(order_) { i := mload(add(add(order_, 0x20), shl(5, pos_))) }
                        if and(shr(shift, mload(add(workP, shl(5, i)))), 0xffffffffffffffff) {
                            found := 1
                            leave
                        }
                        pos_ := add(pos_, 1)
                        continue
                    }
                    r_ := add(r_, 1)
                    if iszero(lt(r_, mload(ranges))) { leave }
                    let range := mload(add(add(ranges, 0x20), shl(5, r_)))
                    pos_ := shr(128, range)
                    to_ := and(range, 0xffffffffffffffffffffffffffffffff)
                }
            }
            let workP := add(work, 0x20)
            let moneyP := add(money, 0x20)
            // Start each cursor at the end of an empty range before the first: `next` moves it on. Until
            // then it reports the start of its first range (a side never walked is left from there).
            if mload(sellerRanges) { s := shr(128, mload(add(sellerRanges, 0x20))) }
            if mload(buyerRanges) { b := shr(128, mload(add(buyerRanges, 0x20))) }
            let sr := not(0)
            let sTo := 0
            let br := not(0)
            let bTo := 0
            for {} 1 {} {
                let si, bi, found
                sr, s, sTo, si, found := next(sellerRanges, sr, s, sTo, order, workP, 64)
                if iszero(found) { break }
                br, b, bTo, bi, found := next(buyerRanges, br, b, bTo, order, workP, 0)
                if iszero(found) { break }
                let sp := add(workP, shl(5, si))
                let bp := add(workP, shl(5, bi))
                let sw := mload(sp)
                let bw := mload(bp)
                let e := and(shr(64, sw), 0xffffffffffffffff)
                if lt(and(bw, 0xffffffffffffffff), e) { e := and(bw, 0xffffffffffffffff) }
                let received := div(mul(e, shr(128, sw)), 1000)
                let paid := div(mul(e, shr(128, bw)), 1000)
                mstore(sp, sub(sw, shl(64, e)))
                // Read again: the seller and the buyer can be the same entry (a prosumer meeting itself).
                mstore(bp, sub(mload(bp), e))
                let mp := add(moneyP, shl(5, si))
                mstore(mp, add(mload(mp), shl(128, received)))
                mp := add(moneyP, shl(5, bi))
                mstore(mp, add(mload(mp), paid))
                fees := add(fees, sub(paid, received))
                let seller := calldataload(add(entries.offset, shl(6, si)))
                let meterId := and(shr(64, seller), 0xffffffff)
                // EnergyRoot.append(leaves, leafCount, interval, buyer's owner, meterId, token id, e), the
                // token id being EnergyTokenId.encode(interval, zone, source, meterId)
                let q := add(add(leaves, 0x20), shl(5, leafCount))
                mstore(q, interval)
                mstore(add(q, 0x20), leafCount)
                mstore(add(q, 0x40), shr(96, calldataload(add(entries.offset, shl(6, bi)))))
                mstore(add(q, 0x60), meterId)
                mstore(
                    add(q, 0x80),
                    or(or(shl(72, interval), shl(40, and(shr(48, seller), 0xffff))), or(shl(32, and(shr(40, seller), 0xff)), meterId))
                )
                mstore(add(q, 0xa0), e)
                mstore(0x00, keccak256(q, 0xc0))
                mstore(q, keccak256(0x00, 0x20))
                leafCount := add(leafCount, 1)
                trades := add(trades, 1)
            }
        }
        w.leafCount = leafCount;
        w.trades = trades;
        w.feesMicro = fees;
    }

    /// @dev A bytes32 array of `length` words whose contents are left as they are in memory. Memory is paid
    /// for when first touched, so as long as this is the last allocation and words are written before they
    /// are read, only the words written cost anything.
    function _uninitialized(uint256 length) private pure returns (bytes32[] memory a) {
        assembly ("memory-safe") {
            a := mload(0x40)
            mstore(a, length)
            mstore(0x40, add(add(a, 0x20), shl(5, length)))
        }
    }

    /// @dev a[i] without the bounds check, for the settlement's hot loops, whose indexes are below the
    /// array's length by construction.
    function _at(uint256[] memory a, uint256 i) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := mload(add(add(a, 0x20), shl(5, i)))
        }
    }

    /// @dev a[i] = v without the bounds check (see {_at}).
    function _set(uint256[] memory a, uint256 i, uint256 v) private pure {
        assembly ("memory-safe") {
            mstore(add(add(a, 0x20), shl(5, i)), v)
        }
    }

    function _tokenId(uint64 interval, uint256 meter) private pure returns (uint256) {
        return EnergyTokenId.encode(interval, MeterEntry.zone(meter), MeterEntry.source(meter), MeterEntry.meterId(meter));
    }

    // ------------------------------------------------------------------ energy claims

    /// @inheritdoc IEnergyMarket
    function claimEnergy(uint64 interval, EnergyClaim calldata claim, bytes32[] calldata proof) external {
        if (interval >= _nextInterval) revert IntervalNotSettled(interval);
        bytes32 leaf =
            EnergyRoot.leaf(interval, claim.index, claim.recipient, claim.sellerMeterId, claim.tokenId, claim.energyWh);
        if (_claimed[leaf]) revert EnergyAlreadyClaimed(interval, leaf);
        if (!MerkleProof.verifyCalldata(proof, _energyRoots[interval], leaf)) revert InvalidEnergyProof(interval);
        _claimed[leaf] = true;
        energyToken.mint(claim.recipient, claim.tokenId, claim.energyWh);
        emit EnergyClaimed(interval, claim.recipient, claim.index, claim.sellerMeterId, claim.tokenId, claim.energyWh);
    }

    /// @notice Whether the energy leaf `leaf` was redeemed.
    function isClaimed(bytes32 leaf) external view returns (bool) {
        return _claimed[leaf];
    }

    // ------------------------------------------------------------------ administration

    /// @inheritdoc IEnergyMarket
    function setTariffs(Tariffs calldata tariffs_) external onlyRegistryRole(GRID_OPERATOR_ROLE) {
        _setTariffs(tariffs_);
    }

    /// @notice Sets the account that buys surplus and sells shortfall. Operator only; the account must
    /// hold the grid-operator role. Escrow stays with the account that deposited it.
    function setGridAccount(address account) external onlyRegistryRole(OPERATOR_ROLE) {
        if (!registry.isGridOperator(account)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(account, GRID_OPERATOR_ROLE);
        }
        gridAccount = account;
        emit GridAccountChanged(account);
    }

    /// @inheritdoc IEnergyMarket
    function setZoneLimits(uint16 zone, ZoneLimits calldata limits) external onlyRegistryRole(GRID_OPERATOR_ROLE) {
        _zoneConfigs[zone] = ZoneConfig({
            importCapWh: limits.importCapWh,
            exportCapWh: limits.exportCapWh,
            feeMicroPerKwh: limits.feeMicroPerKwh,
            configured: true
        });
        emit ZoneLimitsSet(zone, limits.importCapWh, limits.exportCapWh, limits.feeMicroPerKwh);
    }

    /// @inheritdoc IEnergyMarket
    function zoneLimitsOf(uint16 zone) public view returns (ZoneLimits memory) {
        ZoneConfig memory c = _zoneConfigs[zone];
        if (!c.configured) return ZoneLimits(type(uint64).max, type(uint64).max, 0);
        return ZoneLimits(c.importCapWh, c.exportCapWh, c.feeMicroPerKwh);
    }

    function _setTariffs(Tariffs memory t) private {
        if (t.feedInMicroPerKwh == 0 || t.feedInMicroPerKwh > t.retailMicroPerKwh || t.retailMicroPerKwh > type(uint32).max) {
            revert InvalidTariffs(t.feedInMicroPerKwh, t.retailMicroPerKwh);
        }
        tariffs = t;
        emit TariffsChanged(t.feedInMicroPerKwh, t.retailMicroPerKwh);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IEnergyMarket
    function accountsOf(address[] calldata owners) external view returns (Account[] memory out) {
        out = new Account[](owners.length);
        for (uint256 i; i < owners.length; ++i) {
            out[i] = _accounts[owners[i]];
        }
    }

    /// @inheritdoc IEnergyMarket
    function bookOf(uint64 interval) external view returns (IntervalBook memory) {
        return _books[interval];
    }

    /// @inheritdoc IEnergyMarket
    function energyRootOf(uint64 interval) external view returns (bytes32) {
        return _energyRoots[interval];
    }

    /// @inheritdoc IEnergyMarket
    function nextIntervalToSettle() external view returns (uint64) {
        return _nextInterval;
    }

    // ------------------------------------------------------------------ math

    /// @dev Money for `energyWh` at `priceMicroPerKwh`, rounded down (the product of two uint64 fits).
    function _cost(uint64 energyWh, uint64 priceMicroPerKwh) private pure returns (uint256) {
        unchecked {
            return uint256(energyWh) * priceMicroPerKwh / WH_PER_KWH;
        }
    }

    function _positive(int256 balance) private pure returns (uint256) {
        return balance > 0 ? uint256(balance) : 0;
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }

    function _min64(uint64 a, uint64 b) private pure returns (uint64) {
        return a < b ? a : b;
    }
}
