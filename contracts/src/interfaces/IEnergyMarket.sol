// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title PeerGrid energy market: signed readings, standing orders, escrow, verified clearing, settlement.
/// @notice Time is cut into intervals of `intervalSeconds`: interval = floor(timestamp / intervalSeconds).
/// Readings of an interval are accepted from its end for `readingWindowSeconds`; then anyone may settle
/// it with a clearing computed off chain, which this contract verifies in linear time. Intervals settle
/// in order, each exactly once. Prices are in the settlement token's smallest unit per kWh; energy in Wh.
interface IEnergyMarket {
    /// @notice A meter reading signed by the meter (EIP-712 `Reading`), signature in EIP-2098 compact form.
    struct SignedReading {
        address meter;
        uint64 interval;
        uint64 exportWh;
        uint64 importWh;
        bytes32 r;
        bytes32 vs;
    }

    /// @notice A recorded reading; `recorded` distinguishes a zero reading from none.
    struct Position {
        uint64 exportWh;
        uint64 importWh;
        bool recorded;
    }

    /// @notice A standing order: valid every interval until changed. A cap of 0 means "not on this side".
    /// @param askMicroPerKwh lowest price the participant sells at (below feed-in counts as feed-in)
    /// @param maxSellWh most Wh sold locally per interval
    /// @param bidMicroPerKwh highest price the participant buys at (above retail counts as retail)
    /// @param maxBuyWh most Wh bought locally per interval
    struct StandingOrder {
        uint64 askMicroPerKwh;
        uint64 maxSellWh;
        uint64 bidMicroPerKwh;
        uint64 maxBuyWh;
    }

    /// @notice Tariffs of the grid account, the bounds of every clearing price.
    struct Tariffs {
        uint64 feedInMicroPerKwh;
        uint64 retailMicroPerKwh;
    }

    /// @notice One meter's result in a clearing.
    struct Fill {
        uint32 meterId;
        uint64 soldWh;
        uint64 boughtWh;
    }

    /// @notice A clearing of one interval: the equilibrium price bounds, the price (their midpoint, rounded
    /// down) and one fill per meter with a reading in the interval, in increasing meter id.
    struct Clearing {
        uint64 priceLowMicroPerKwh;
        uint64 priceHighMicroPerKwh;
        uint64 priceMicroPerKwh;
        Fill[] fills;
    }

    /// @notice What a clearing needs to know about one meter in one interval.
    struct MeterSnapshot {
        uint32 meterId;
        address owner;
        Position position;
        StandingOrder order;
        uint256 balance;
    }

    // ---- readings ----
    /// @notice The reading's signature was not made by the meter's key for this chain and contract.
    error InvalidReadingSignature(address meter, uint64 interval);
    /// @notice The meter is not registered.
    error UnknownMeter(address meter);
    /// @notice The meter is registered but deactivated.
    error MeterInactive(address meter);
    /// @notice The interval started before the meter was registered.
    error ReadingBeforeMeterRegistered(address meter, uint64 interval, uint256 registeredAt);
    /// @notice This meter's reading for this interval was recorded already.
    error ReadingAlreadyRecorded(address meter, uint64 interval);
    /// @notice The interval has not ended yet.
    error IntervalNotEnded(uint64 interval, uint256 endsAt);
    /// @notice The interval's reading window has closed.
    error ReadingWindowClosed(uint64 interval, uint256 closedAt);
    /// @notice The interval was settled already (or precedes the market's first interval).
    error IntervalAlreadySettled(uint64 interval);
    /// @notice The meter's reading slot still holds `unsettledInterval`: settlement is a day behind.
    error ReadingBufferFull(address meter, uint64 interval, uint64 unsettledInterval);
    /// @notice Intervals must be positive and the reading window shorter than the reading buffer.
    error InvalidTiming(uint32 intervalSeconds, uint32 readingWindowSeconds);

    // ---- orders and escrow ----
    /// @notice The account is not an active participant.
    error NotAnActiveParticipant(address account);
    /// @notice The buy side has a cap but no price, or a price but no cap. (An ask of 0 is valid: it
    /// sells at any price, which is never below feed-in.)
    error InvalidOrder(address account);
    /// @notice The account's escrow cannot cover what was asked.
    error InsufficientEscrow(address account, uint256 required, uint256 available);
    /// @notice Amount must be positive.
    error ZeroAmount();
    /// @notice Feed-in tariff must be positive and not above the retail price.
    error InvalidTariffs(uint64 feedInMicroPerKwh, uint64 retailMicroPerKwh);

    // ---- clearing and settlement ----
    /// @notice Intervals settle in order; `expected` is the next one.
    error IntervalOutOfOrder(uint64 interval, uint64 expected);
    /// @notice The interval's reading window is still open.
    error IntervalNotClosed(uint64 interval, uint256 closesAt);
    /// @notice The clearing does not have exactly one fill per meter with a reading.
    error ClearingIncomplete(uint64 interval, uint256 fills, uint256 meters);
    /// @notice Fills must be in strictly increasing meter id.
    error FillsNotSorted(uint32 meterId);
    /// @notice A fill names a meter without a reading in this interval.
    error MeterNotInInterval(uint32 meterId, uint64 interval);
    /// @notice A price is outside [feed-in, retail] or the price is not the midpoint of its bounds.
    error PriceOutOfBounds(uint64 priceMicroPerKwh, uint64 lowMicroPerKwh, uint64 highMicroPerKwh);
    /// @notice A price bound does not clear the market (supply and demand do not cross there).
    error PriceBoundNotEquilibrium(uint64 boundMicroPerKwh);
    /// @notice A price bound is not the lowest (or highest) equilibrium price.
    error PriceBoundNotExtreme(uint64 boundMicroPerKwh);
    /// @notice A fill sells more than the meter offered or buys more than it demanded.
    error FillExceedsQuantity(uint32 meterId, uint64 filledWh, uint64 availableWh);
    /// @notice A fill trades at a price beyond the order's limit.
    error FillBeyondLimit(uint32 meterId, uint64 limitMicroPerKwh, uint64 priceMicroPerKwh);
    /// @notice An order priced better than the clearing price was not filled completely.
    error BetterOrderLeftOut(uint32 meterId, uint64 filledWh, uint64 requiredWh);
    /// @notice Orders at exactly the clearing price were not rationed pro rata (remainder to lowest ids).
    error TieNotProRata(uint32 meterId, uint64 filledWh, uint64 expectedWh);
    /// @notice Sold and bought energy differ.
    error ClearingNotBalanced(uint256 soldWh, uint256 boughtWh);
    /// @notice The grid account cannot pay for the surplus it must buy at the feed-in tariff.
    error InsufficientGridEscrow(uint256 required, uint256 available);

    /// @notice A meter's reading was verified and recorded.
    event ReadingRecorded(uint64 indexed interval, uint32 indexed meterId, uint64 exportWh, uint64 importWh);
    /// @notice A participant set or changed its standing order.
    event StandingOrderSet(address indexed account, uint64 askMicroPerKwh, uint64 maxSellWh, uint64 bidMicroPerKwh, uint64 maxBuyWh);
    /// @notice Settlement tokens were deposited into escrow for `account` (after paying down grid debt).
    event Deposited(address indexed account, address indexed payer, uint256 amount, uint256 debtRepaid);
    /// @notice Settlement tokens left escrow.
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice Energy changed hands at the clearing price.
    event TradeSettled(
        uint64 indexed interval,
        address indexed seller,
        address indexed buyer,
        uint32 sellerMeterId,
        uint32 buyerMeterId,
        uint64 energyWh,
        uint256 payment
    );
    /// @notice A meter's unsold export went to the grid account at the feed-in tariff.
    event SoldToGrid(uint64 indexed interval, address indexed seller, uint32 meterId, uint64 energyWh, uint256 payment);
    /// @notice A meter's unmet import came from the grid at the retail price; `debt` is what escrow could not pay.
    event BoughtFromGrid(uint64 indexed interval, address indexed buyer, uint32 meterId, uint64 energyWh, uint256 paid, uint256 debt);
    /// @notice An interval was cleared and settled.
    event IntervalSettled(
        uint64 indexed interval,
        uint64 priceMicroPerKwh,
        uint256 tradedWh,
        uint256 toGridWh,
        uint256 fromGridWh,
        uint256 trades
    );
    /// @notice The grid tariffs changed; they apply to every interval settled from now on.
    event TariffsChanged(uint64 feedInMicroPerKwh, uint64 retailMicroPerKwh);
    /// @notice The grid account changed.
    event GridAccountChanged(address indexed gridAccount);

    /// @notice Verifies and records signed readings; readings already recorded are skipped, so a batch
    /// can be re-submitted safely. Any invalid reading reverts the whole batch. Meter gateways only.
    /// @return recorded how many readings were new
    function submitReadings(SignedReading[] calldata readings) external returns (uint256 recorded);

    /// @notice Verifies and records one signed reading; a duplicate reverts. Meter gateways only.
    function submitReading(SignedReading calldata reading) external;

    /// @notice Sets the caller's standing order. A buy side needs escrow for one interval at its cap.
    function setStandingOrder(StandingOrder calldata order) external;

    /// @notice Deposits `amount` settlement tokens into `account`'s escrow (a registered participant, even
    /// a deactivated one, or the grid account); grid debt is repaid first.
    function depositFor(address account, uint256 amount) external;

    /// @notice Withdraws `amount` from the caller's escrow.
    function withdraw(uint256 amount) external;

    /// @notice Verifies `clearing` for `interval` and settles it in one step.
    function settleInterval(uint64 interval, Clearing calldata clearing) external;

    /// @notice Sets the grid tariffs. Operator only.
    function setTariffs(Tariffs calldata tariffs) external;

    /// @notice The EIP-712 digest a meter signs for a reading.
    function readingDigest(address meter, uint64 interval, uint64 exportWh, uint64 importWh) external view returns (bytes32);

    /// @notice Everything a clearing needs about `meterIds` in `interval`, in one call.
    function snapshot(uint64 interval, uint32[] calldata meterIds) external view returns (MeterSnapshot[] memory);

    /// @notice The next interval to settle; every earlier one is settled.
    function nextIntervalToSettle() external view returns (uint64);

    /// @notice Number of meters with a reading in `interval`.
    function meterCountIn(uint64 interval) external view returns (uint32);
}
