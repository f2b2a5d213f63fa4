// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IBilateralAgreements} from "./interfaces/IBilateralAgreements.sol";
import {ICommunityRegistry} from "./interfaces/ICommunityRegistry.sol";
import {IEnergyMarket} from "./interfaces/IEnergyMarket.sol";

/// @title PeerGrid bilateral agreements
/// @notice See {IBilateralAgreements}. A contract of its own, beside the market, because the market's code
/// is close to the 24,576-byte limit; the market reads {dueAt} once per settlement.
/// @dev Active agreements sit in one list that settlement walks, capped at {MAX_ACTIVE} so an interval's
/// settlement gas stays bounded; ended ones leave the list through {prune}.
contract BilateralAgreements is IBilateralAgreements {
    /// @notice Most agreements active at once (each costs settlement ~10k gas per interval).
    uint256 public constant MAX_ACTIVE = 128;
    bytes32 private constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");

    ICommunityRegistry public immutable registry;
    uint32 public immutable intervalSeconds;
    /// @notice The market that executes the agreements (set once, after it is deployed).
    IEnergyMarket public market;

    mapping(uint256 id => Agreement) private _agreements;
    uint256 private _count;
    uint256[] private _active;

    /// @notice The market was bound.
    event MarketSet(address market);

    constructor(ICommunityRegistry registry_, uint32 intervalSeconds_) {
        registry = registry_;
        intervalSeconds = intervalSeconds_;
    }

    /// @notice Binds the market, once; registry operators only. (The market takes this contract's address
    /// in its constructor, so one of the two must be bound after deployment.)
    function setMarket(IEnergyMarket market_) external {
        if (!IAccessControl(address(registry)).hasRole(OPERATOR_ROLE, msg.sender)) {
            revert IAccessControl.AccessControlUnauthorizedAccount(msg.sender, OPERATOR_ROLE);
        }
        if (address(market) != address(0) || address(market_) == address(0)) revert InvalidTerms();
        market = market_;
        emit MarketSet(address(market_));
    }

    /// @inheritdoc IBilateralAgreements
    function propose(Terms calldata terms) external returns (uint256 id) {
        if (msg.sender != terms.seller && msg.sender != terms.buyer) revert NotAParty(0, msg.sender);
        if (
            terms.seller == terms.buyer || terms.maxWhPerInterval == 0 || terms.priceMicroPerKwh == 0
                || terms.startInterval >= terms.endInterval || terms.endInterval <= _currentInterval() + 1
        ) revert InvalidTerms();
        uint16 sellerZone = _activeZone(terms.seller);
        uint16 buyerZone = _activeZone(terms.buyer);
        if (sellerZone != buyerZone) revert DifferentZones(sellerZone, buyerZone);
        id = ++_count;
        _agreements[id] = Agreement({terms: terms, status: Status.Proposed, proposer: msg.sender});
        emit AgreementProposed(id, terms.seller, terms.buyer, terms);
    }

    /// @inheritdoc IBilateralAgreements
    function accept(uint256 id) external {
        Agreement storage a = _agreement(id);
        if (a.status != Status.Proposed) revert WrongStatus(id, a.status);
        address counterparty = a.proposer == a.terms.seller ? a.terms.buyer : a.terms.seller;
        if (msg.sender != counterparty) revert NotTheCounterparty(id, msg.sender);
        // Both parties must still be active: the proposer may have left since proposing.
        _activeZone(a.terms.seller);
        _activeZone(a.terms.buyer);
        uint64 next = _currentInterval() + 1;
        if (a.terms.startInterval < next) a.terms.startInterval = next;
        if (a.terms.startInterval >= a.terms.endInterval) revert InvalidTerms();
        prune();
        if (_active.length >= MAX_ACTIVE) revert TooManyActiveAgreements(MAX_ACTIVE);
        a.status = Status.Active;
        _active.push(id);
        emit AgreementAccepted(id, a.terms.startInterval, a.terms.endInterval);
    }

    /// @inheritdoc IBilateralAgreements
    function cancel(uint256 id) external {
        Agreement storage a = _agreement(id);
        if (msg.sender != a.terms.seller && msg.sender != a.terms.buyer) revert NotAParty(id, msg.sender);
        if (a.status == Status.Proposed) {
            // Withdrawn by its proposer or refused by its counterparty: it never delivered.
            a.status = Status.Ended;
            emit AgreementCancelled(id, msg.sender, a.terms.startInterval);
            return;
        }
        if (a.status != Status.Active) revert WrongStatus(id, a.status);
        // Deliveries go on through the notice: the interval after this one plus `noticeIntervals`.
        uint64 end = _currentInterval() + 1 + a.terms.noticeIntervals;
        if (end < a.terms.startInterval) end = a.terms.startInterval;
        if (end < a.terms.endInterval) a.terms.endInterval = end;
        emit AgreementCancelled(id, msg.sender, a.terms.endInterval);
    }

    /// @inheritdoc IBilateralAgreements
    function prune() public {
        if (address(market) == address(0)) return;
        uint64 next = market.nextIntervalToSettle();
        uint256 k;
        while (k < _active.length) {
            Agreement storage a = _agreements[_active[k]];
            if (a.terms.endInterval <= next) {
                a.status = Status.Ended;
                // Keep the list in acceptance order (settlement executes it in this order).
                for (uint256 j = k + 1; j < _active.length; ++j) {
                    _active[j - 1] = _active[j];
                }
                _active.pop();
            } else {
                ++k;
            }
        }
    }

    /// @inheritdoc IBilateralAgreements
    function agreement(uint256 id) external view returns (Agreement memory) {
        return _agreements[id];
    }

    /// @notice Ids of the active agreements, in execution order (including ended ones not yet pruned).
    function activeIds() external view returns (uint256[] memory) {
        return _active;
    }

    /// @inheritdoc IBilateralAgreements
    function dueAt(uint64 interval) external view returns (Due[] memory due) {
        uint256 n = _active.length;
        due = new Due[](n);
        uint256 count;
        for (uint256 k; k < n; ++k) {
            uint256 id = _active[k];
            Terms storage t = _agreements[id].terms;
            if (interval < t.startInterval || interval >= t.endInterval) continue;
            due[count++] = Due({
                id: id,
                seller: t.seller,
                buyer: t.buyer,
                maxWhPerInterval: t.maxWhPerInterval,
                priceMicroPerKwh: t.priceMicroPerKwh
            });
        }
        assembly ("memory-safe") {
            mstore(due, count)
        }
    }

    function _agreement(uint256 id) private view returns (Agreement storage a) {
        a = _agreements[id];
        if (a.status == Status.None) revert UnknownAgreement(id);
    }

    function _activeZone(address account) private view returns (uint16) {
        ICommunityRegistry.Participant memory p = registry.participant(account);
        if (!p.active) revert NotAnActiveParticipant(account);
        return p.zone;
    }

    function _currentInterval() private view returns (uint64) {
        return uint64(block.timestamp / intervalSeconds);
    }
}
