// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ICommunityRegistry} from "./interfaces/ICommunityRegistry.sol";
import {IEnergyMarket} from "./interfaces/IEnergyMarket.sol";
import {IEnergyToken} from "./interfaces/IEnergyToken.sol";
import {ClearingVerifier} from "./libraries/ClearingVerifier.sol";
import {EnergyTokenId} from "./libraries/EnergyTokenId.sol";

/// @title PeerGrid energy market
/// @notice See {IEnergyMarket}. Escrow is an internal ledger backed one to one by the settlement tokens
/// this contract holds; settlement moves ledger balances, never tokens.
contract EnergyMarket is IEnergyMarket, EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;

    bytes32 public constant READING_TYPEHASH =
        keccak256("Reading(address meter,uint64 interval,uint64 exportWh,uint64 importWh)");
    bytes32 private constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    bytes32 private constant GRID_OPERATOR_ROLE = keccak256("GRID_OPERATOR_ROLE");
    bytes32 private constant METER_GATEWAY_ROLE = keccak256("METER_GATEWAY_ROLE");
    uint256 private constant WH_PER_KWH = 1000;
    /// @notice Readings are kept in a ring of this many slots per meter (a day of 15-minute intervals).
    /// A slot is reused once its interval is settled, so steady-state recording rewrites a warm slot
    /// (~5k gas) instead of filling a fresh one (~22k). Older readings live on in `ReadingRecorded` events.
    uint64 public constant READING_SLOTS = 96;

    ICommunityRegistry public immutable registry;
    IEnergyToken public immutable energyToken;
    IERC20 public immutable settlementToken;
    uint32 public immutable intervalSeconds;
    uint32 public immutable readingWindowSeconds;

    Tariffs public tariffs;
    address public gridAccount;
    uint64 private _nextInterval;

    /// @dev One ring slot: the interval it belongs to and the reading.
    struct StoredReading {
        uint64 interval;
        uint64 exportWh;
        uint64 importWh;
        bool recorded;
    }

    mapping(uint32 meterId => StoredReading[READING_SLOTS]) private _readings;
    mapping(uint64 interval => uint32 meters) private _meterCounts;
    mapping(address account => StandingOrder) private _orders;
    /// @notice Escrowed settlement tokens per account.
    mapping(address account => uint256 amount) public balanceOf;
    /// @notice Grid imports an account's escrow could not pay; repaid first from its next deposit.
    mapping(address account => uint256 amount) public gridDebtOf;

    /// @dev Per-meter working data of one settlement.
    struct Entry {
        address owner;
        uint256 tokenId;
        uint64 exportWh;
        uint64 importWh;
        uint256 credit;
        uint256 debit;
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
        // A reading can be late by at most the window; it must never find its slot taken by a newer one.
        if (intervalSeconds_ == 0 || uint256(readingWindowSeconds_) >= uint256(intervalSeconds_) * READING_SLOTS) {
            revert InvalidTiming(intervalSeconds_, readingWindowSeconds_);
        }
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
    function submitReadings(SignedReading[] calldata readings)
        external
        onlyRegistryRole(METER_GATEWAY_ROLE)
        returns (uint256 recorded)
    {
        for (uint256 i; i < readings.length; ++i) {
            if (_record(readings[i], false)) ++recorded;
        }
    }

    /// @inheritdoc IEnergyMarket
    function submitReading(SignedReading calldata reading) external onlyRegistryRole(METER_GATEWAY_ROLE) {
        _record(reading, true);
    }

    function _record(SignedReading calldata r, bool strict) private returns (bool) {
        uint32 meterId = registry.meterIdOf(r.meter);
        if (meterId == 0) revert UnknownMeter(r.meter);
        ICommunityRegistry.Meter memory m = registry.meter(meterId);
        if (!m.active) revert MeterInactive(r.meter);
        if (r.interval < _nextInterval) revert IntervalAlreadySettled(r.interval);
        uint256 startsAt = uint256(r.interval) * intervalSeconds;
        // One owner, one meter per interval: an owner's escrow backs a single entry in the book.
        if (startsAt < m.registeredAt) revert ReadingBeforeMeterRegistered(r.meter, r.interval, m.registeredAt);
        uint256 endsAt = startsAt + intervalSeconds;
        if (block.timestamp < endsAt) revert IntervalNotEnded(r.interval, endsAt);
        if (block.timestamp >= endsAt + readingWindowSeconds) {
            revert ReadingWindowClosed(r.interval, endsAt + readingWindowSeconds);
        }
        // The signature is checked before the duplicate test so a forged batch always reverts.
        bytes32 digest = readingDigest(r.meter, r.interval, r.exportWh, r.importWh);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, r.r, r.vs);
        if (err != ECDSA.RecoverError.NoError || signer != r.meter) {
            revert InvalidReadingSignature(r.meter, r.interval);
        }
        StoredReading storage slot = _readings[meterId][r.interval % READING_SLOTS];
        if (slot.recorded) {
            if (slot.interval == r.interval) {
                if (strict) revert ReadingAlreadyRecorded(r.meter, r.interval);
                return false;
            }
            if (slot.interval >= _nextInterval) revert ReadingBufferFull(r.meter, r.interval, slot.interval);
        }
        _readings[meterId][r.interval % READING_SLOTS] =
            StoredReading({interval: r.interval, exportWh: r.exportWh, importWh: r.importWh, recorded: true});
        ++_meterCounts[r.interval];
        emit ReadingRecorded(r.interval, meterId, r.exportWh, r.importWh);
        return true;
    }

    /// @inheritdoc IEnergyMarket
    function readingDigest(address meter, uint64 interval, uint64 exportWh, uint64 importWh)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(READING_TYPEHASH, meter, interval, exportWh, importWh)));
    }

    // ------------------------------------------------------------------ orders and escrow

    /// @inheritdoc IEnergyMarket
    function setStandingOrder(StandingOrder calldata order) external {
        if (!registry.participant(msg.sender).active) revert NotAnActiveParticipant(msg.sender);
        if ((order.maxBuyWh == 0) != (order.bidMicroPerKwh == 0)) revert InvalidOrder(msg.sender);
        if (order.maxBuyWh != 0) {
            uint256 required = _cost(order.maxBuyWh, _min64(order.bidMicroPerKwh, tariffs.retailMicroPerKwh), true);
            uint256 available = balanceOf[msg.sender];
            if (available < required) revert InsufficientEscrow(msg.sender, required, available);
        }
        _orders[msg.sender] = order;
        emit StandingOrderSet(msg.sender, order.askMicroPerKwh, order.maxSellWh, order.bidMicroPerKwh, order.maxBuyWh);
    }

    /// @notice The standing order of `account` (all zero when none: trades only with the grid).
    function standingOrderOf(address account) external view returns (StandingOrder memory) {
        return _orders[account];
    }

    /// @inheritdoc IEnergyMarket
    function depositFor(address account, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        if (account != gridAccount && !registry.participant(account).registered) revert NotAnActiveParticipant(account);
        uint256 before = settlementToken.balanceOf(address(this));
        settlementToken.safeTransferFrom(msg.sender, address(this), amount);
        // Credit what arrived, so fee-on-transfer tokens cannot inflate the ledger.
        uint256 received = settlementToken.balanceOf(address(this)) - before;
        uint256 repaid = _min(gridDebtOf[account], received);
        if (repaid != 0) {
            gridDebtOf[account] -= repaid;
            balanceOf[gridAccount] += repaid;
        }
        balanceOf[account] += received - repaid;
        emit Deposited(account, msg.sender, received, repaid);
    }

    /// @inheritdoc IEnergyMarket
    function withdraw(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint256 available = balanceOf[msg.sender];
        if (available < amount) revert InsufficientEscrow(msg.sender, amount, available);
        balanceOf[msg.sender] = available - amount;
        settlementToken.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    // ------------------------------------------------------------------ clearing and settlement

    /// @inheritdoc IEnergyMarket
    function settleInterval(uint64 interval, Clearing calldata clearing) external nonReentrant {
        if (interval != _nextInterval) revert IntervalOutOfOrder(interval, _nextInterval);
        uint256 closesAt = (uint256(interval) + 1) * intervalSeconds + readingWindowSeconds;
        if (block.timestamp < closesAt) revert IntervalNotClosed(interval, closesAt);
        uint256 n = clearing.fills.length;
        if (n != _meterCounts[interval]) revert ClearingIncomplete(interval, n, _meterCounts[interval]);

        Tariffs memory t = tariffs;
        Entry[] memory entries = new Entry[](n);
        ClearingVerifier.Order[] memory book = new ClearingVerifier.Order[](n);
        for (uint256 i; i < n; ++i) {
            (entries[i], book[i]) = _load(interval, clearing.fills, i, t);
        }
        uint256 tradedWh = ClearingVerifier.verify(book, clearing, t.feedInMicroPerKwh, t.retailMicroPerKwh);

        _nextInterval = interval + 1;
        uint256 trades = _executeTrades(interval, clearing, entries);
        (uint256 toGridWh, uint256 fromGridWh) = _settleWithGrid(interval, clearing.fills, entries, t);
        emit IntervalSettled(interval, clearing.priceMicroPerKwh, tradedWh, toGridWh, fromGridWh, trades);
    }

    /// @dev Loads one meter's reading, order and escrow, and turns them into its effective order.
    function _load(uint64 interval, Fill[] calldata fills, uint256 i, Tariffs memory t)
        private
        view
        returns (Entry memory e, ClearingVerifier.Order memory o)
    {
        uint32 meterId = fills[i].meterId;
        if (i != 0 && meterId <= fills[i - 1].meterId) revert FillsNotSorted(meterId);
        Position memory pos = _position(interval, meterId);
        if (!pos.recorded) revert MeterNotInInterval(meterId, interval);
        ICommunityRegistry.Meter memory m = registry.meter(meterId);
        StandingOrder memory order = _orders[m.owner];

        e.owner = m.owner;
        e.tokenId = EnergyTokenId.encode(interval, m.zone, m.source, meterId);
        e.exportWh = pos.exportWh;
        e.importWh = pos.importWh;

        o.offerWh = _min64(pos.exportWh, order.maxSellWh);
        o.askMicroPerKwh = order.askMicroPerKwh < t.feedInMicroPerKwh ? t.feedInMicroPerKwh : order.askMicroPerKwh;
        if (order.maxBuyWh != 0) {
            o.bidMicroPerKwh = _min64(order.bidMicroPerKwh, t.retailMicroPerKwh);
            // A buyer is in the book only for what its escrow pays at its own limit price.
            uint256 affordableWh = balanceOf[m.owner] * WH_PER_KWH / o.bidMicroPerKwh;
            o.demandWh = uint64(_min(_min64(pos.importWh, order.maxBuyWh), affordableWh));
        }
    }

    /// @dev Pairs sellers and buyers in meter-id order, mints energy to buyers, books payments.
    function _executeTrades(uint64 interval, Clearing calldata c, Entry[] memory entries)
        private
        returns (uint256 trades)
    {
        Fill[] calldata fills = c.fills;
        uint256 n = fills.length;
        uint256 s;
        uint256 b;
        uint64 leftSold = n == 0 ? 0 : fills[0].soldWh;
        uint64 leftBought = n == 0 ? 0 : fills[0].boughtWh;
        while (true) {
            while (leftSold == 0 && ++s < n) leftSold = fills[s].soldWh;
            while (leftBought == 0 && ++b < n) leftBought = fills[b].boughtWh;
            if (s >= n || b >= n) break;
            uint64 energyWh = leftSold < leftBought ? leftSold : leftBought;
            uint256 payment = _cost(energyWh, c.priceMicroPerKwh, false);
            entries[s].credit += payment;
            entries[b].debit += payment;
            energyToken.mint(entries[b].owner, entries[s].tokenId, energyWh);
            emit TradeSettled(
                interval, entries[s].owner, entries[b].owner, fills[s].meterId, fills[b].meterId, energyWh, payment
            );
            leftSold -= energyWh;
            leftBought -= energyWh;
            ++trades;
        }
    }

    /// @dev Unsold export goes to the grid at feed-in, unmet import comes from it at retail; then every
    /// ledger balance is written once.
    function _settleWithGrid(uint64 interval, Fill[] calldata fills, Entry[] memory entries, Tariffs memory t)
        private
        returns (uint256 toGridWh, uint256 fromGridWh)
    {
        address grid = gridAccount;
        uint256 gridPays;
        uint256 gridGets;
        for (uint256 i; i < entries.length; ++i) {
            Entry memory e = entries[i];
            uint64 unsoldWh = e.exportWh - fills[i].soldWh;
            if (unsoldWh != 0) {
                uint256 payment = _cost(unsoldWh, t.feedInMicroPerKwh, false);
                e.credit += payment;
                gridPays += payment;
                toGridWh += unsoldWh;
                energyToken.mint(grid, EnergyTokenId.pooled(e.tokenId), unsoldWh);
                emit SoldToGrid(interval, e.owner, fills[i].meterId, unsoldWh, payment);
            }
            // The trades' debit never exceeds the balance: demand was capped to what escrow pays.
            uint256 available = balanceOf[e.owner] + e.credit - e.debit;
            uint64 unmetWh = e.importWh - fills[i].boughtWh;
            if (unmetWh != 0) {
                uint256 charge = _cost(unmetWh, t.retailMicroPerKwh, false);
                uint256 paid = _min(charge, available);
                e.debit += paid;
                gridGets += paid;
                fromGridWh += unmetWh;
                if (charge > paid) gridDebtOf[e.owner] += charge - paid;
                emit BoughtFromGrid(interval, e.owner, fills[i].meterId, unmetWh, paid, charge - paid);
            }
            balanceOf[e.owner] = balanceOf[e.owner] + e.credit - e.debit;
        }
        uint256 gridAvailable = balanceOf[grid] + gridGets;
        if (gridAvailable < gridPays) revert InsufficientGridEscrow(gridPays, gridAvailable);
        balanceOf[grid] = gridAvailable - gridPays;
    }

    // ------------------------------------------------------------------ administration

    /// @inheritdoc IEnergyMarket
    function setTariffs(Tariffs calldata tariffs_) external onlyRegistryRole(OPERATOR_ROLE) {
        _setTariffs(tariffs_);
    }

    /// @notice Sets the account that buys surplus and sells shortfall. Operator only; the account must
    /// hold the grid-operator role.
    function setGridAccount(address account) external onlyRegistryRole(OPERATOR_ROLE) {
        if (!registry.isGridOperator(account)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(account, GRID_OPERATOR_ROLE);
        }
        gridAccount = account;
        emit GridAccountChanged(account);
    }

    function _setTariffs(Tariffs memory t) private {
        if (t.feedInMicroPerKwh == 0 || t.feedInMicroPerKwh > t.retailMicroPerKwh) {
            revert InvalidTariffs(t.feedInMicroPerKwh, t.retailMicroPerKwh);
        }
        tariffs = t;
        emit TariffsChanged(t.feedInMicroPerKwh, t.retailMicroPerKwh);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IEnergyMarket
    function snapshot(uint64 interval, uint32[] calldata meterIds) external view returns (MeterSnapshot[] memory out) {
        out = new MeterSnapshot[](meterIds.length);
        for (uint256 i; i < meterIds.length; ++i) {
            address owner = registry.meter(meterIds[i]).owner;
            out[i] = MeterSnapshot({
                meterId: meterIds[i],
                owner: owner,
                position: _position(interval, meterIds[i]),
                order: _orders[owner],
                balance: balanceOf[owner]
            });
        }
    }

    /// @notice The recorded reading of `meterId` in `interval`, while it is in the meter's reading ring
    /// (the last READING_SLOTS intervals); `recorded` is false otherwise.
    function positionOf(uint64 interval, uint32 meterId) external view returns (Position memory) {
        return _position(interval, meterId);
    }

    function _position(uint64 interval, uint32 meterId) private view returns (Position memory) {
        StoredReading memory s = _readings[meterId][interval % READING_SLOTS];
        if (!s.recorded || s.interval != interval) return Position({exportWh: 0, importWh: 0, recorded: false});
        return Position({exportWh: s.exportWh, importWh: s.importWh, recorded: true});
    }

    /// @inheritdoc IEnergyMarket
    function nextIntervalToSettle() external view returns (uint64) {
        return _nextInterval;
    }

    /// @inheritdoc IEnergyMarket
    function meterCountIn(uint64 interval) external view returns (uint32) {
        return _meterCounts[interval];
    }

    // ------------------------------------------------------------------ math

    /// @dev Money for `energyWh` at `priceMicroPerKwh`, rounded down (or up for escrow requirements).
    function _cost(uint64 energyWh, uint64 priceMicroPerKwh, bool roundUp) private pure returns (uint256) {
        uint256 product = uint256(energyWh) * priceMicroPerKwh;
        return roundUp ? (product + WH_PER_KWH - 1) / WH_PER_KWH : product / WH_PER_KWH;
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }

    function _min64(uint64 a, uint64 b) private pure returns (uint64) {
        return a < b ? a : b;
    }
}
