// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Bilateral agreements: "up to X Wh per interval from seller S at price P, from interval D1 to D2".
/// @notice One party proposes, the other accepts (each signs its own transaction, so both have signed the
/// terms). The market executes every active agreement at settlement, from the interval's metered
/// readings and before the auction clears what is left: the buyer gets min(X, the seller's export, the
/// buyer's import, what the buyer's escrow pays at P) and pays P for it. A seller who exports less
/// under-delivers, and the buyer's remaining need goes to the auction and the grid as usual. Either party
/// can cancel with the notice agreed in the terms; a proposal can be withdrawn or refused at once.
/// Agreements are between participants of the same grid zone, so they never cross a zone limit.
interface IBilateralAgreements {
    enum Status {
        None,
        Proposed,
        Active,
        Ended
    }

    /// @notice The terms, as proposed.
    /// @param seller the participant who delivers (from its meter's export)
    /// @param buyer the participant who receives and pays (from its meter's import and its escrow)
    /// @param maxWhPerInterval most energy delivered in one interval
    /// @param priceMicroPerKwh price of every delivered kWh, in the settlement token's smallest unit
    /// @param startInterval first interval delivered (moved to the interval after acceptance if earlier)
    /// @param endInterval first interval no longer delivered
    /// @param noticeIntervals how many intervals after a cancellation deliveries go on
    struct Terms {
        address seller;
        address buyer;
        uint32 maxWhPerInterval;
        uint32 priceMicroPerKwh;
        uint64 startInterval;
        uint64 endInterval;
        uint32 noticeIntervals;
    }

    /// @notice An agreement: its terms and where it stands.
    struct Agreement {
        Terms terms;
        Status status;
        address proposer;
    }

    /// @notice An agreement that applies to one interval, as the market executes it.
    struct Due {
        uint256 id;
        address seller;
        address buyer;
        uint32 maxWhPerInterval;
        uint32 priceMicroPerKwh;
    }

    /// @notice The caller is not an active participant, or the counterparty is not one.
    error NotAnActiveParticipant(address account);
    /// @notice The terms are invalid: a party twice, no energy, no price, or an empty or past period.
    error InvalidTerms();
    /// @notice Seller and buyer are in different grid zones.
    error DifferentZones(uint16 sellerZone, uint16 buyerZone);
    /// @notice No agreement has this id.
    error UnknownAgreement(uint256 id);
    /// @notice Only the party that did not propose can accept.
    error NotTheCounterparty(uint256 id, address caller);
    /// @notice Only the seller or the buyer can cancel.
    error NotAParty(uint256 id, address caller);
    /// @notice The agreement is not in the state this action needs.
    error WrongStatus(uint256 id, Status status);
    /// @notice Accepting would exceed the number of agreements settlement executes per interval.
    error TooManyActiveAgreements(uint256 limit);

    event AgreementProposed(uint256 indexed id, address indexed seller, address indexed buyer, Terms terms);
    event AgreementAccepted(uint256 indexed id, uint64 startInterval, uint64 endInterval);
    /// @notice Cancelled by `by`; deliveries stop at `endInterval` (right away for a proposal).
    event AgreementCancelled(uint256 indexed id, address indexed by, uint64 endInterval);

    /// @notice Proposes `terms`; the caller must be the seller or the buyer. Returns the agreement's id.
    function propose(Terms calldata terms) external returns (uint256 id);

    /// @notice Accepts proposal `id`; only its counterparty can.
    function accept(uint256 id) external;

    /// @notice Cancels `id`: a proposal at once, an active agreement after its notice.
    function cancel(uint256 id) external;

    /// @notice The agreement with id `id`.
    function agreement(uint256 id) external view returns (Agreement memory);

    /// @notice The active agreements that deliver in `interval`, in the order the market executes them.
    function dueAt(uint64 interval) external view returns (Due[] memory);

    /// @notice Drops agreements that ended before the market's next interval to settle. Anyone may call it;
    /// {accept} does it too.
    function prune() external;
}
