// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ICommunityRegistry} from "./interfaces/ICommunityRegistry.sol";
import {IEnergyMarket} from "./interfaces/IEnergyMarket.sol";
import {IEnergyToken} from "./interfaces/IEnergyToken.sol";
import {EnergyRoot} from "./libraries/EnergyRoot.sol";
import {EnergyTokenId} from "./libraries/EnergyTokenId.sol";
import {MeterEntry} from "./libraries/MeterEntry.sol";
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

    ICommunityRegistry public immutable registry;
    IEnergyToken public immutable energyToken;
    IERC20 public immutable settlementToken;
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

    /// @dev The trade pairing's working state: what each entry has left to sell and to buy, its price
    /// (its zone's), the money it gets and pays, and the energy leaves so far.
    struct Pairing {
        uint64 interval;
        uint64[] soldLeft;
        uint64[] boughtLeft;
        uint64[] price;
        uint256[] credit;
        uint256[] debit;
        bytes32[] leaves;
        uint256 leafCount;
        uint256 trades;
        uint256 feesMicro;
    }

    modifier onlyRegistryRole(bytes32 role) {
        if (!IAccessControl(address(registry)).hasRole(role, msg.sender)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(msg.sender, role);
        }
        _;
    }

    /// @param firstInterval the first interval this market settles (usually the current one)
    constructor(
        ICommunityRegistry registry_,
        IEnergyToken energyToken_,
        IERC20 settlementToken_,
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
        address[] memory signers = new address[](n);
        for (uint256 i; i < n; ++i) {
            signers[i] = readings[i].meter;
        }
        uint256[] memory meters = registry.meterWords(signers);
        uint32 previous;
        for (uint256 i; i < n; ++i) {
            SignedReading calldata r = readings[i];
            // The registry's packed meter record; see ICommunityRegistry.meterWords for the layout.
            uint256 m = meters[i];
            address owner = address(uint160(m));
            uint32 meterId = uint32(m >> 160);
            if (owner == address(0)) revert UnknownMeter(r.meter);
            if (uint8(m >> 216) == 0) revert MeterInactive(r.meter);
            // One owner, one meter per interval: an owner's escrow backs a single entry in the book.
            if (startsAt < uint32(m >> 224)) revert ReadingBeforeMeterRegistered(r.meter, interval, uint32(m >> 224));
            if (meterId <= previous) revert ReadingsNotSorted(meterId);
            previous = meterId;
            // The signature is checked before the duplicate test so a forged batch always reverts.
            bytes32 digest = _hashTypedDataV4(_readingHash(r.meter, interval, r.exportWh, r.importWh));
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, r.r, r.vs);
            if (err != ECDSA.RecoverError.NoError || signer != r.meter) {
                revert InvalidReadingSignature(r.meter, interval);
            }
            if (meterId <= book.lastMeterId) continue; // recorded by an earlier batch
            book.head = MeterEntry.chain(
                book.head,
                MeterEntry.meterWord(owner, meterId, uint16(m >> 192), uint8(m >> 208)),
                MeterEntry.readingWord(r.exportWh, r.importWh)
            );
            book.lastMeterId = meterId;
            ++book.count;
            ++recorded;
        }
        if (recorded != 0) {
            _books[interval] = book;
            emit ReadingsRecorded(interval, uint32(recorded), book.lastMeterId, book.head);
        }
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
            uint256 required = _cost(order.maxBuyWh, _min64(order.bidMicroPerKwh, tariffs.retailMicroPerKwh), true);
            uint256 available = _positive(a.balanceMicro);
            if (available < required) revert InsufficientEscrow(msg.sender, required, available);
        }
        a.askMicroPerKwh = uint32(order.askMicroPerKwh);
        a.maxSellWh = uint32(order.maxSellWh);
        a.bidMicroPerKwh = uint32(order.bidMicroPerKwh);
        a.maxBuyWh = uint32(order.maxBuyWh);
        emit StandingOrderSet(msg.sender, order.askMicroPerKwh, order.maxSellWh, order.bidMicroPerKwh, order.maxBuyWh);
    }

    /// @notice The standing order of `account` (all zero when none: trades only with the grid).
    function standingOrderOf(address account) external view returns (StandingOrder memory) {
        Account memory a = _accounts[account];
        return StandingOrder({
            askMicroPerKwh: a.askMicroPerKwh,
            maxSellWh: a.maxSellWh,
            bidMicroPerKwh: a.bidMicroPerKwh,
            maxBuyWh: a.maxBuyWh
        });
    }

    /// @notice Escrowed settlement tokens of `account`.
    function balanceOf(address account) external view returns (uint256) {
        return _positive(_accounts[account].balanceMicro);
    }

    /// @notice Grid imports `account`'s escrow could not pay; repaid first from its next deposit.
    function gridDebtOf(address account) external view returns (uint256) {
        int128 b = _accounts[account].balanceMicro;
        return b < 0 ? uint256(-int256(b)) : 0;
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
        uint256[] memory orders = new uint256[](n);
        bytes32 head;
        for (uint256 i; i < n; ++i) {
            uint256 meter = entries[i].meter;
            uint256 energy = entries[i].energy;
            head = MeterEntry.chain(head, meter, MeterEntry.readingOf(energy));
            orders[i] = _effectiveOrder(_accounts[MeterEntry.owner(meter)], energy, t);
        }
        if (head != book.head) revert EntriesDoNotMatchReadings(interval);
        ZoneLimits[] memory limits = new ZoneLimits[](zones.length);
        for (uint256 k; k < zones.length; ++k) {
            limits[k] = zoneLimitsOf(zones[k].zone);
        }
        (ZonalVerifier.Zone[] memory verified, uint256[] memory zoneOf, uint256 tradedWh) =
            ZonalVerifier.verify(orders, entries, prices, zones, limits, t.feedInMicroPerKwh, t.retailMicroPerKwh);

        _nextInterval = interval + 1;
        (Totals memory totals, bytes32 root) = _settle(interval, entries, verified, zoneOf, t);
        _energyRoots[interval] = root;
        for (uint256 k; k < verified.length; ++k) {
            ZonalVerifier.Zone memory z = verified[k];
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

    /// @dev The order a meter brings to the book: its standing order capped by its reading and, on the buy
    /// side, by what its escrow pays at its own limit price; prices clamped into [feed-in, retail].
    function _effectiveOrder(Account storage account, uint256 energy, Tariffs memory t)
        private
        view
        returns (uint256)
    {
        Account memory a = account;
        uint64 offerWh = _min64(MeterEntry.exportWh(energy), a.maxSellWh);
        uint64 ask = a.askMicroPerKwh < t.feedInMicroPerKwh ? t.feedInMicroPerKwh : a.askMicroPerKwh;
        uint64 demandWh;
        uint64 bid;
        if (a.maxBuyWh != 0) {
            bid = _min64(a.bidMicroPerKwh, t.retailMicroPerKwh);
            uint256 affordableWh = _positive(a.balanceMicro) * WH_PER_KWH / bid;
            demandWh = uint64(_min(_min64(MeterEntry.importWh(energy), a.maxBuyWh), affordableWh));
        }
        return ZonalVerifier.order(offerWh, ask, demandWh, bid);
    }

    /// @dev Pairs sellers and buyers (see {_pairAll}), sells unsold export to the grid at feed-in and buys
    /// unmet import from it at retail, then writes every account once and the grid's once. Returns the
    /// totals and the energy root.
    function _settle(
        uint64 interval,
        Entry[] calldata entries,
        ZonalVerifier.Zone[] memory zones,
        uint256[] memory zoneOf,
        Tariffs memory t
    ) private returns (Totals memory totals, bytes32 root) {
        Pairing memory w = _pairAll(interval, entries, zones, zoneOf);
        totals.trades = w.trades;
        totals.gridFeesMicro = w.feesMicro;
        totals.gridGets = w.feesMicro;
        address grid = gridAccount;
        for (uint256 i; i < entries.length; ++i) {
            uint256 meter = entries[i].meter;
            uint256 energy = entries[i].energy;
            uint256 credit = w.credit[i];
            uint64 unsoldWh = MeterEntry.exportWh(energy) - MeterEntry.soldWh(energy);
            if (unsoldWh != 0) {
                uint256 payment = _cost(unsoldWh, t.feedInMicroPerKwh, false);
                credit += payment;
                totals.gridPays += payment;
                totals.toGridWh += unsoldWh;
                w.leaves[w.leafCount++] = EnergyRoot.leaf(
                    interval, grid, MeterEntry.meterId(meter), EnergyTokenId.pooled(_tokenId(interval, meter)), unsoldWh
                );
            }
            // The trades' debit never exceeds a positive balance: demand was capped to what escrow pays at
            // the buyer's limit, and its zone's price is not above that limit.
            Account storage a = _accounts[MeterEntry.owner(meter)];
            int256 before = a.balanceMicro;
            // Sales first repay grid debt, to the grid account, exactly as a deposit does.
            if (before < 0) totals.gridGets += _min(uint256(-before), credit);
            int256 balance = before + int256(credit) - int256(w.debit[i]);
            uint64 unmetWh = MeterEntry.importWh(energy) - MeterEntry.boughtWh(energy);
            if (unmetWh != 0) {
                uint256 charge = _cost(unmetWh, t.retailMicroPerKwh, false);
                // What escrow cannot pay becomes grid debt (a negative balance).
                totals.gridGets += _min(charge, _positive(balance));
                totals.fromGridWh += unmetWh;
                balance -= int256(charge);
            }
            a.balanceMicro = int128(balance);
        }
        Account storage g = _accounts[grid];
        uint256 gridAvailable = _positive(g.balanceMicro) + totals.gridGets;
        if (gridAvailable < totals.gridPays) revert InsufficientGridEscrow(totals.gridPays, gridAvailable);
        g.balanceMicro = g.balanceMicro + int128(int256(totals.gridGets)) - int128(int256(totals.gridPays));
        root = EnergyRoot.root(w.leaves, w.leafCount);
    }

    /// @dev Pairs what sellers sold with what buyers bought: inside each zone first (sellers and buyers in
    /// meter-id order, a two-pointer walk), then what exporting zones have left with what importing zones
    /// still need, in zone order — so the energy crossing zones adds up to the zones' flows. Each trade pays
    /// the seller at its zone's price and charges the buyer at its own; the difference (import fee and
    /// congestion rent, never negative because exporting zones' prices are not above importing zones')
    /// goes to the grid. Every trade exhausts a seller or a buyer, so there are fewer than 2n of them.
    function _pairAll(uint64 interval, Entry[] calldata entries, ZonalVerifier.Zone[] memory zones, uint256[] memory zoneOf)
        private
        pure
        returns (Pairing memory w)
    {
        uint256 n = entries.length;
        w.interval = interval;
        w.soldLeft = new uint64[](n);
        w.boughtLeft = new uint64[](n);
        w.price = new uint64[](n);
        w.credit = new uint256[](n);
        w.debit = new uint256[](n);
        // A prosumer can sell, buy and sell to the grid in one interval: trades + grid sales < 3n.
        w.leaves = new bytes32[](3 * n);
        for (uint256 i; i < n; ++i) {
            uint256 energy = entries[i].energy;
            w.soldLeft[i] = MeterEntry.soldWh(energy);
            w.boughtLeft[i] = MeterEntry.boughtWh(energy);
            w.price[i] = zones[zoneOf[i]].price;
        }
        if (zones.length < 2) {
            _pair(w, entries, new uint256[](0), 0, n);
            return w;
        }
        // Entry indexes grouped by zone, meter-id order kept inside each zone (a counting sort).
        uint256[] memory zoneStart = new uint256[](zones.length + 1);
        for (uint256 i; i < n; ++i) {
            ++zoneStart[zoneOf[i] + 1];
        }
        for (uint256 k; k < zones.length; ++k) {
            zoneStart[k + 1] += zoneStart[k];
        }
        uint256[] memory byZone = new uint256[](n);
        uint256[] memory next = new uint256[](zones.length);
        for (uint256 k; k < zones.length; ++k) {
            next[k] = zoneStart[k];
        }
        for (uint256 i; i < n; ++i) {
            byZone[next[zoneOf[i]]++] = i;
        }
        for (uint256 k; k < zones.length; ++k) {
            _pair(w, entries, byZone, zoneStart[k], zoneStart[k + 1]);
        }
        _pair(w, entries, byZone, 0, n);
    }

    /// @dev The two-pointer walk over positions [from, to) of `order` (the identity when empty).
    function _pair(Pairing memory w, Entry[] calldata entries, uint256[] memory order, uint256 from, uint256 to)
        private
        pure
    {
        bool grouped = order.length != 0;
        uint256 s = from;
        uint256 b = from;
        while (true) {
            while (s < to && w.soldLeft[grouped ? order[s] : s] == 0) ++s;
            while (b < to && w.boughtLeft[grouped ? order[b] : b] == 0) ++b;
            if (s == to || b == to) return;
            uint256 si = grouped ? order[s] : s;
            uint256 bi = grouped ? order[b] : b;
            uint64 energyWh = _min64(w.soldLeft[si], w.boughtLeft[bi]);
            uint256 received = _cost(energyWh, w.price[si], false);
            uint256 paid = _cost(energyWh, w.price[bi], false);
            w.credit[si] += received;
            w.debit[bi] += paid;
            w.feesMicro += paid - received;
            uint256 seller = entries[si].meter;
            w.leaves[w.leafCount++] = EnergyRoot.leaf(
                w.interval, MeterEntry.owner(entries[bi].meter), MeterEntry.meterId(seller), _tokenId(w.interval, seller), energyWh
            );
            w.soldLeft[si] -= energyWh;
            w.boughtLeft[bi] -= energyWh;
            ++w.trades;
        }
    }

    function _tokenId(uint64 interval, uint256 meter) private pure returns (uint256) {
        return EnergyTokenId.encode(interval, MeterEntry.zone(meter), MeterEntry.source(meter), MeterEntry.meterId(meter));
    }

    // ------------------------------------------------------------------ energy claims

    /// @inheritdoc IEnergyMarket
    function claimEnergy(uint64 interval, EnergyClaim calldata claim, bytes32[] calldata proof) external {
        if (interval >= _nextInterval) revert IntervalNotSettled(interval);
        bytes32 leaf = EnergyRoot.leaf(interval, claim.recipient, claim.sellerMeterId, claim.tokenId, claim.energyWh);
        if (_claimed[leaf]) revert EnergyAlreadyClaimed(interval, leaf);
        if (!MerkleProof.verifyCalldata(proof, _energyRoots[interval], leaf)) revert InvalidEnergyProof(interval);
        _claimed[leaf] = true;
        energyToken.mint(claim.recipient, claim.tokenId, claim.energyWh);
        emit EnergyClaimed(interval, claim.recipient, claim.sellerMeterId, claim.tokenId, claim.energyWh);
    }

    /// @notice Whether the energy leaf `leaf` was redeemed.
    function isClaimed(bytes32 leaf) external view returns (bool) {
        return _claimed[leaf];
    }

    // ------------------------------------------------------------------ administration

    /// @inheritdoc IEnergyMarket
    function setTariffs(Tariffs calldata tariffs_) external onlyRegistryRole(OPERATOR_ROLE) {
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

    /// @dev Money for `energyWh` at `priceMicroPerKwh`, rounded down (or up for escrow requirements).
    function _cost(uint64 energyWh, uint64 priceMicroPerKwh, bool roundUp) private pure returns (uint256) {
        uint256 product = uint256(energyWh) * priceMicroPerKwh;
        return roundUp ? (product + WH_PER_KWH - 1) / WH_PER_KWH : product / WH_PER_KWH;
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
