// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title PeerGrid energy market: signed readings, standing orders, escrow, verified clearing, settlement.
/// @notice Time is cut into intervals of `intervalSeconds`: interval = floor(timestamp / intervalSeconds).
/// Readings of an interval are accepted from its end for `readingWindowSeconds`; then anyone may settle
/// it with a clearing computed off chain, which this contract verifies in linear time. Intervals settle
/// in order, each exactly once. Prices are in the settlement token's smallest unit per kWh; energy in Wh.
///
/// Gas design (docs/architecture.md, "Gas"): readings are verified when they arrive but not stored; each
/// interval keeps one running hash of them (a commitment), and settlement supplies the readings again in
/// calldata, checked against that hash. A household's escrow and standing order share one storage slot,
/// the only slot settlement writes per household. Energy tokens are issued as a Merkle root per interval
/// that anyone can redeem for the ERC-1155 tokens ({claimEnergy}); the settlement calldata and the
/// `IntervalSettled` event are the per-household history.
interface IEnergyMarket {
    /// @notice A meter reading signed by the meter (EIP-712 `Reading`), signature in EIP-2098 compact form.
    /// The interval is given once per batch.
    struct SignedReading {
        address meter;
        uint64 exportWh;
        uint64 importWh;
        bytes32 r;
        bytes32 vs;
    }

    /// @notice A standing order: valid every interval until changed. A cap of 0 means "not on this side".
    /// Each field must fit in 32 bits (prices up to ~4,294 tokens per kWh, caps up to ~4.29 GWh).
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

    /// @notice The prices of a clearing: the equilibrium interval and the price (its midpoint, rounded down).
    struct Prices {
        uint64 priceLowMicroPerKwh;
        uint64 priceHighMicroPerKwh;
        uint64 priceMicroPerKwh;
    }

    /// @notice A grid zone's limits, set by the grid operator (docs/architecture.md, "Grid zones"): Wh of
    /// community trades that may enter or leave the zone per interval (type(uint64).max: unlimited) and the
    /// fee per kWh on energy the zone imports from another zone. A zone never configured is unlimited and free.
    struct ZoneLimits {
        uint64 importCapWh;
        uint64 exportCapWh;
        uint32 feeMicroPerKwh;
    }

    /// @notice One zone of a clearing: its net export (sold - bought by its meters; negative: import) and
    /// its price with the bounds it is the midpoint of. The hub's prices come as {Prices}.
    struct ZoneClearing {
        uint16 zone;
        int64 netExportWh;
        uint64 priceLowMicroPerKwh;
        uint64 priceHighMicroPerKwh;
        uint64 priceMicroPerKwh;
    }

    /// @notice One meter in a settlement, packed into two words to keep calldata small (see {MeterEntry}):
    /// `meter` = owner << 96 | meterId << 64 | zone << 48 | source << 40, as recorded with the reading;
    /// `energy` = exportWh << 192 | importWh << 128 | soldWh << 64 | boughtWh: the reading and the fill.
    struct Entry {
        uint256 meter;
        uint256 energy;
    }

    /// @notice The readings recorded for an interval: a running hash over them in meter-id order, how many,
    /// and the highest meter id so far (readings of an interval arrive in increasing meter id).
    struct IntervalBook {
        bytes32 head;
        uint32 count;
        uint32 lastMeterId;
    }

    /// @notice Energy tokens an interval's settlement issued to one recipient from one meter: a leaf of
    /// the interval's energy root. Buyers get the selling meter's token id; energy sold to the grid goes
    /// to the grid account under the pooled id (meter id 0) of the meter's zone and source. `index` is the
    /// leaf's position, which keeps two equal transfers (an agreement's delivery and an auction trade
    /// between the same meters, say) separately claimable.
    struct EnergyClaim {
        uint32 index;
        address recipient;
        uint32 sellerMeterId;
        uint256 tokenId;
        uint64 energyWh;
    }

    /// @notice An account's escrow and standing order as stored (one slot).
    /// @param balanceMicro escrowed settlement tokens; negative is grid debt, repaid from the next deposit
    struct Account {
        int128 balanceMicro;
        uint32 askMicroPerKwh;
        uint32 maxSellWh;
        uint32 bidMicroPerKwh;
        uint32 maxBuyWh;
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
    /// @notice Readings in a batch must be in strictly increasing meter id.
    error ReadingsNotSorted(uint32 meterId);
    /// @notice The interval has not ended yet.
    error IntervalNotEnded(uint64 interval, uint256 endsAt);
    /// @notice The interval's reading window has closed.
    error ReadingWindowClosed(uint64 interval, uint256 closedAt);
    /// @notice The interval was settled already (or precedes the market's first interval).
    error IntervalAlreadySettled(uint64 interval);
    /// @notice Intervals must be positive and the reading window shorter than an interval.
    error InvalidTiming(uint32 intervalSeconds, uint32 readingWindowSeconds);

    // ---- orders and escrow ----
    /// @notice The account is not an active participant.
    error NotAnActiveParticipant(address account);
    /// @notice The buy side has a cap but no price, or a price but no cap, or a field exceeds 32 bits.
    /// (An ask of 0 is valid: it sells at any price, which is never below feed-in.)
    error InvalidOrder(address account);
    /// @notice The account's escrow cannot cover what was asked.
    error InsufficientEscrow(address account, uint256 required, uint256 available);
    /// @notice Amount must be positive, below 2^126, and keep the balance within int128.
    error InvalidAmount(uint256 amount);
    /// @notice Feed-in tariff must be positive and not above the retail price, which must fit in 32 bits.
    error InvalidTariffs(uint64 feedInMicroPerKwh, uint64 retailMicroPerKwh);

    // ---- clearing and settlement ----
    /// @notice Intervals settle in order; `expected` is the next one.
    error IntervalOutOfOrder(uint64 interval, uint64 expected);
    /// @notice The interval's reading window is still open.
    error IntervalNotClosed(uint64 interval, uint256 closesAt);
    /// @notice The settlement does not have exactly one entry per recorded reading.
    error ClearingIncomplete(uint64 interval, uint256 entries, uint256 readings);
    /// @notice The entries are not the recorded readings (in meter-id order): their hash differs.
    error EntriesDoNotMatchReadings(uint64 interval);
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
    /// @notice A zone's meters did not sell minus buy exactly its net export.
    error ZoneNotBalanced(uint16 zone, int256 netExportWh, int256 soldMinusBoughtWh);
    /// @notice Zones must be listed in strictly increasing id (a listed zone without meters is ZoneWithoutMeters).
    error ZonesNotSorted(uint16 zone);
    /// @notice A listed zone has no meter in the settlement.
    error ZoneWithoutMeters(uint16 zone);
    /// @notice A meter's zone is not in the settlement's zone list.
    error ZoneNotListed(uint16 zone);
    /// @notice A zone's net export is not the flow the rule gives at the hub price.
    error ZoneFlowMismatch(uint16 zone, int256 netExportWh, int256 expectedWh);
    /// @notice A zone's price bounds lie outside its window, or its price is not their midpoint.
    error ZonePriceOutOfWindow(uint16 zone, uint64 priceMicroPerKwh, uint64 windowLow, uint64 windowHigh);
    /// @notice A zone's price bound does not clear the zone given its net export.
    error ZonePriceNotEquilibrium(uint16 zone, uint64 boundMicroPerKwh);
    /// @notice A zone's price bound is not the lowest (or highest) equilibrium price in its window.
    error ZonePriceNotExtreme(uint16 zone, uint64 boundMicroPerKwh);
    /// @notice The grid account cannot pay for the surplus it must buy at the feed-in tariff.
    error InsufficientGridEscrow(uint256 required, uint256 available);

    // ---- energy claims ----
    /// @notice The interval is not settled yet.
    error IntervalNotSettled(uint64 interval);
    /// @notice The claim is not a leaf of the interval's energy root.
    error InvalidEnergyProof(uint64 interval);
    /// @notice The claim was redeemed already.
    error EnergyAlreadyClaimed(uint64 interval, bytes32 leaf);

    /// @notice Verified readings were added to an interval's book; `head` is the book's new hash.
    event ReadingsRecorded(uint64 indexed interval, uint32 recorded, uint32 lastMeterId, bytes32 head);
    /// @notice A participant set or changed its standing order.
    event StandingOrderSet(address indexed account, uint64 askMicroPerKwh, uint64 maxSellWh, uint64 bidMicroPerKwh, uint64 maxBuyWh);
    /// @notice Settlement tokens were deposited into escrow for `account` (after paying down grid debt).
    event Deposited(address indexed account, address indexed payer, uint256 amount, uint256 debtRepaid);
    /// @notice Settlement tokens left escrow.
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice An interval was cleared and settled at hub price `priceMicroPerKwh` (zones' prices are in
    /// {ZoneCleared}). `gridFeesMicro`: what buyers paid beyond what their sellers got, to the grid account
    /// (import fees and congestion rent between zones). Who traded what is in the settlement's calldata
    /// (the entries) and, for energy, under `energyRoot`.
    event IntervalSettled(
        uint64 indexed interval,
        uint64 priceMicroPerKwh,
        uint256 tradedWh,
        uint256 toGridWh,
        uint256 fromGridWh,
        uint256 trades,
        uint256 gridFeesMicro,
        bytes32 energyRoot
    );
    /// @notice A zone's result in a settled interval (one per zone with meters). `capacityBound`: one of its
    /// capacities limited its trade with other zones, so its price split from the hub's.
    event ZoneCleared(
        uint64 indexed interval, uint16 indexed zone, int64 netExportWh, uint64 priceMicroPerKwh, bool capacityBound
    );
    /// @notice The grid operator set a zone's limits; they apply to every interval settled from now on.
    event ZoneLimitsSet(uint16 indexed zone, uint64 importCapWh, uint64 exportCapWh, uint32 feeMicroPerKwh);
    /// @notice Energy tokens of a settled interval were minted to their recipient.
    event EnergyClaimed(
        uint64 indexed interval, address indexed recipient, uint32 index, uint32 sellerMeterId, uint256 tokenId, uint64 energyWh
    );
    /// @notice The grid tariffs changed; they apply to every interval settled from now on.
    event TariffsChanged(uint64 feedInMicroPerKwh, uint64 retailMicroPerKwh);
    /// @notice The grid account changed.
    event GridAccountChanged(address indexed gridAccount);
    /// @notice Bilateral agreement `id` delivered `energyWh` (0 when the seller exported nothing, a party
    /// had no reading, or the buyer's escrow was empty) in `interval`, for `costMicro` paid by the buyer to
    /// the seller, before the auction.
    event AgreementDelivered(uint256 indexed id, uint64 indexed interval, uint64 energyWh, uint256 costMicro);

    /// @notice Verifies signed readings of `interval` and adds them to its book. Readings must be in
    /// strictly increasing meter id; those whose meter id is not above the book's last are skipped (sent
    /// before), so a batch can be re-submitted safely. Any invalid reading reverts the whole batch. Meter
    /// gateways only.
    /// @return recorded how many readings were new
    function submitReadings(uint64 interval, SignedReading[] calldata readings) external returns (uint256 recorded);

    /// @notice Sets the caller's standing order. A buy side needs escrow for one interval at its cap.
    function setStandingOrder(StandingOrder calldata order) external;

    /// @notice Deposits `amount` settlement tokens into `account`'s escrow (a registered participant, even
    /// a deactivated one, or the grid account); grid debt is repaid first.
    function depositFor(address account, uint256 amount) external;

    /// @notice Withdraws `amount` from the caller's escrow.
    function withdraw(uint256 amount) external;

    /// @notice Verifies the clearing given by the hub's `prices`, the `zones` (each zone with meters, in
    /// increasing id) and the fills in `entries` (one per recorded reading, in meter-id order), and settles
    /// the interval in the same step. With one unlimited, free zone, the hub price is the market price.
    function settleInterval(uint64 interval, Prices calldata prices, ZoneClearing[] calldata zones, Entry[] calldata entries)
        external;

    /// @notice Sets a zone's import and export capacities and its import fee. Grid operators only.
    function setZoneLimits(uint16 zone, ZoneLimits calldata limits) external;

    /// @notice The limits settlement applies to `zone` (unlimited and free if never set).
    function zoneLimitsOf(uint16 zone) external view returns (ZoneLimits memory);

    /// @notice Mints the energy tokens of one leaf of a settled interval's energy root to its recipient.
    /// Anyone may call it; each leaf is redeemed once.
    function claimEnergy(uint64 interval, EnergyClaim calldata claim, bytes32[] calldata proof) external;

    /// @notice Sets the grid tariffs (the grid account's prices). Grid operators only.
    function setTariffs(Tariffs calldata tariffs) external;

    /// @notice The EIP-712 digest a meter signs for a reading.
    function readingDigest(address meter, uint64 interval, uint64 exportWh, uint64 importWh) external view returns (bytes32);

    /// @notice The stored accounts of `owners` (escrow and standing order), in one call.
    function accountsOf(address[] calldata owners) external view returns (Account[] memory);

    /// @notice The readings book of `interval`.
    function bookOf(uint64 interval) external view returns (IntervalBook memory);

    /// @notice The energy root of a settled interval (zero before).
    function energyRootOf(uint64 interval) external view returns (bytes32);

    /// @notice The next interval to settle; every earlier one is settled.
    function nextIntervalToSettle() external view returns (uint64);
}
