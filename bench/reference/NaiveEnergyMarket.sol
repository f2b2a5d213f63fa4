// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

/// @title Naive energy market (benchmark reference only)
/// @notice The straightforward per-order, per-trade design of PeerGrid's market, written plainly so that
/// `bench/reference/naive.ts` can measure it side by side with `EnergyMarket`: every reading, order, trade
/// and grid settlement is its own transaction and its own storage record. It is not deployed by PeerGrid
/// and is not meant for production (no reading window, no interval closing, a trusted settler).
/// @dev Money is an internal ledger credited by the admin; energy tokens are ERC-1155, id = interval, 1 unit = 1 Wh.
contract NaiveEnergyMarket is ERC1155, AccessControl, EIP712 {
    bytes32 public constant READING_TYPEHASH =
        keccak256("Reading(address meter,uint64 interval,uint64 exportWh,uint64 importWh)");
    bytes32 public constant SETTLER_ROLE = keccak256("SETTLER_ROLE");
    uint256 private constant WH_PER_KWH = 1000;

    struct Reading {
        uint64 exportWh;
        uint64 importWh;
        bool recorded;
    }

    struct Order {
        address owner;
        bool isSell;
        uint64 priceMicroPerKwh;
        uint64 energyWh;
        uint64 filledWh;
    }

    struct Trade {
        uint256 sellOrderId;
        uint256 buyOrderId;
        uint64 energyWh;
        uint64 priceMicroPerKwh;
    }

    struct GridSettlement {
        uint64 toGridWh;
        uint64 fromGridWh;
        bool settled;
    }

    /// @notice The grid's account in the ledger: it buys unsold export at feed-in and sells unmet import at retail.
    address public immutable gridAccount;
    uint64 public immutable feedInMicroPerKwh;
    uint64 public immutable retailMicroPerKwh;

    /// @notice The household owning each meter, and the meter of each household (one each).
    mapping(address meter => address owner) public ownerOfMeter;
    mapping(address owner => address meter) public meterOf;
    /// @notice Ledger balances in micro-credits.
    mapping(address account => uint256) public balances;
    mapping(uint64 interval => mapping(address meter => Reading)) public readings;
    mapping(uint64 interval => Order[]) public orders;
    /// @dev Order id + 1 of each household's order in an interval; 0 when it placed none.
    mapping(uint64 interval => mapping(address owner => uint256)) private _orderIdPlusOne;
    mapping(uint64 interval => Trade[]) public trades;
    mapping(uint64 interval => mapping(address owner => GridSettlement)) public gridSettlements;

    /// @notice The admin registered `meter` for `owner`.
    event MeterRegistered(address indexed meter, address indexed owner);
    /// @notice The admin credited `amountMicro` to `account`.
    event Credited(address indexed account, uint256 amountMicro);
    /// @notice A meter's signed reading for `interval` was recorded.
    event ReadingRecorded(uint64 indexed interval, address indexed meter, uint64 exportWh, uint64 importWh);
    /// @notice `owner` placed order `orderId` in `interval`.
    event OrderPlaced(
        uint64 indexed interval,
        uint256 orderId,
        address indexed owner,
        bool isSell,
        uint64 priceMicroPerKwh,
        uint64 energyWh
    );
    /// @notice A trade between two orders of `interval` was settled: money and energy tokens moved.
    event TradeSettled(
        uint64 indexed interval, uint256 sellOrderId, uint256 buyOrderId, uint64 energyWh, uint64 priceMicroPerKwh
    );
    /// @notice What `household` did not trade in `interval` was settled with the grid.
    event GridSettled(uint64 indexed interval, address indexed household, uint64 toGridWh, uint64 fromGridWh);

    /// @notice The meter or the household already has a registration.
    error MeterAlreadyRegistered(address meter, address owner);
    /// @notice The caller has no registered meter.
    error NoMeter(address account);
    /// @notice The meter already reported for this interval.
    error ReadingAlreadyRecorded(address meter, uint64 interval);
    /// @notice The signature was made by `signer`, not by `meter`.
    error InvalidReadingSignature(address meter, address signer);
    /// @notice A household has no reading for this interval.
    error ReadingMissing(address meter, uint64 interval);
    /// @notice The household already placed its order for this interval.
    error OrderAlreadyPlaced(address owner, uint64 interval);
    /// @notice Orders and trades need a non-zero energy and price.
    error ZeroAmount();
    /// @notice No order `orderId` in `interval`.
    error OrderNotFound(uint64 interval, uint256 orderId);
    /// @notice The sell order is not a sell, or the buy order is not a buy.
    error WrongSide(uint256 sellOrderId, uint256 buyOrderId);
    /// @notice The trade price is below the ask or above the bid.
    error PriceOutsideLimits(uint64 priceMicroPerKwh, uint64 askMicroPerKwh, uint64 bidMicroPerKwh);
    /// @notice The trade would fill order `orderId` beyond its quantity.
    error OrderOverfilled(uint256 orderId, uint64 energyWh, uint64 remainingWh);
    /// @notice The seller would sell more than its meter exported.
    error ExportNotCovered(address meter, uint64 soldWh, uint64 exportWh);
    /// @notice `account` cannot pay `amountMicro`.
    error InsufficientBalance(address account, uint256 balanceMicro, uint256 amountMicro);
    /// @notice The household's interval is already settled with the grid.
    error GridAlreadySettled(address household, uint64 interval);

    constructor(address admin, address gridAccount_, uint64 feedInMicroPerKwh_, uint64 retailMicroPerKwh_)
        ERC1155("")
        EIP712("NaiveMarket", "1")
    {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(SETTLER_ROLE, admin);
        gridAccount = gridAccount_;
        feedInMicroPerKwh = feedInMicroPerKwh_;
        retailMicroPerKwh = retailMicroPerKwh_;
    }

    /// @notice Registers `meter` (its signing key) as the meter of household `owner`.
    function registerMeter(address meter, address owner) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (ownerOfMeter[meter] != address(0) || meterOf[owner] != address(0)) {
            revert MeterAlreadyRegistered(meter, owner);
        }
        ownerOfMeter[meter] = owner;
        meterOf[owner] = meter;
        emit MeterRegistered(meter, owner);
    }

    /// @notice Credits `amountMicro` to `account` (stands in for a deposit of settlement tokens).
    function credit(address account, uint256 amountMicro) external onlyRole(DEFAULT_ADMIN_ROLE) {
        balances[account] += amountMicro;
        emit Credited(account, amountMicro);
    }

    /// @notice Records the caller's meter reading for `interval`, signed by the meter (EIP-712).
    function submitReading(uint64 interval, uint64 exportWh, uint64 importWh, bytes calldata signature) external {
        address meter = meterOf[msg.sender];
        if (meter == address(0)) revert NoMeter(msg.sender);
        if (readings[interval][meter].recorded) revert ReadingAlreadyRecorded(meter, interval);
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(READING_TYPEHASH, meter, interval, exportWh, importWh)));
        address signer = ECDSA.recover(digest, signature);
        if (signer != meter) revert InvalidReadingSignature(meter, signer);
        readings[interval][meter] = Reading(exportWh, importWh, true);
        emit ReadingRecorded(interval, meter, exportWh, importWh);
    }

    /// @notice Places the caller's order for `interval`: one per household and interval.
    function placeOrder(uint64 interval, bool isSell, uint64 priceMicroPerKwh, uint64 energyWh) external {
        if (meterOf[msg.sender] == address(0)) revert NoMeter(msg.sender);
        if (_orderIdPlusOne[interval][msg.sender] != 0) revert OrderAlreadyPlaced(msg.sender, interval);
        if (priceMicroPerKwh == 0 || energyWh == 0) revert ZeroAmount();
        orders[interval].push(Order(msg.sender, isSell, priceMicroPerKwh, energyWh, 0));
        uint256 orderId = orders[interval].length - 1;
        _orderIdPlusOne[interval][msg.sender] = orderId + 1;
        emit OrderPlaced(interval, orderId, msg.sender, isSell, priceMicroPerKwh, energyWh);
    }

    /// @notice Settles one trade matched off chain: the buyer pays the seller and receives energy tokens.
    function settleTrade(
        uint64 interval,
        uint256 sellOrderId,
        uint256 buyOrderId,
        uint64 energyWh,
        uint64 priceMicroPerKwh
    ) external onlyRole(SETTLER_ROLE) {
        Order[] storage book = orders[interval];
        if (sellOrderId >= book.length) revert OrderNotFound(interval, sellOrderId);
        if (buyOrderId >= book.length) revert OrderNotFound(interval, buyOrderId);
        Order storage sell = book[sellOrderId];
        Order storage buy = book[buyOrderId];
        if (!sell.isSell || buy.isSell) revert WrongSide(sellOrderId, buyOrderId);
        if (energyWh == 0) revert ZeroAmount();
        if (priceMicroPerKwh < sell.priceMicroPerKwh || priceMicroPerKwh > buy.priceMicroPerKwh) {
            revert PriceOutsideLimits(priceMicroPerKwh, sell.priceMicroPerKwh, buy.priceMicroPerKwh);
        }
        uint64 soldWh = sell.filledWh + energyWh;
        if (soldWh > sell.energyWh) revert OrderOverfilled(sellOrderId, energyWh, sell.energyWh - sell.filledWh);
        if (buy.filledWh + energyWh > buy.energyWh) {
            revert OrderOverfilled(buyOrderId, energyWh, buy.energyWh - buy.filledWh);
        }
        address meter = meterOf[sell.owner];
        Reading storage reading = readings[interval][meter];
        if (!reading.recorded) revert ReadingMissing(meter, interval);
        if (soldWh > reading.exportWh) revert ExportNotCovered(meter, soldWh, reading.exportWh);

        sell.filledWh = soldWh;
        buy.filledWh += energyWh;
        trades[interval].push(Trade(sellOrderId, buyOrderId, energyWh, priceMicroPerKwh));
        _pay(buy.owner, sell.owner, uint256(energyWh) * priceMicroPerKwh / WH_PER_KWH);
        emit TradeSettled(interval, sellOrderId, buyOrderId, energyWh, priceMicroPerKwh);
        _mint(buy.owner, interval, energyWh, "");
    }

    /// @notice Settles with the grid what `household` did not trade in `interval`: unsold export is paid
    /// at feed-in, unmet import is charged at retail. Call it after the interval's trades.
    function settleWithGrid(uint64 interval, address household) external onlyRole(SETTLER_ROLE) {
        address meter = meterOf[household];
        Reading memory reading = readings[interval][meter];
        if (!reading.recorded) revert ReadingMissing(meter, interval);
        if (gridSettlements[interval][household].settled) revert GridAlreadySettled(household, interval);
        uint64 soldWh;
        uint64 boughtWh;
        uint256 orderIdPlusOne = _orderIdPlusOne[interval][household];
        if (orderIdPlusOne != 0) {
            Order storage order = orders[interval][orderIdPlusOne - 1];
            if (order.isSell) soldWh = order.filledWh;
            else boughtWh = order.filledWh;
        }
        // settleTrade keeps soldWh within the export; a buyer may have bought more than it imported.
        uint64 toGridWh = reading.exportWh - soldWh;
        uint64 fromGridWh = reading.importWh > boughtWh ? reading.importWh - boughtWh : 0;
        gridSettlements[interval][household] = GridSettlement(toGridWh, fromGridWh, true);
        if (toGridWh > 0) _pay(gridAccount, household, uint256(toGridWh) * feedInMicroPerKwh / WH_PER_KWH);
        if (fromGridWh > 0) _pay(household, gridAccount, uint256(fromGridWh) * retailMicroPerKwh / WH_PER_KWH);
        emit GridSettled(interval, household, toGridWh, fromGridWh);
    }

    /// @notice Number of orders and of trades in `interval`.
    function counts(uint64 interval) external view returns (uint256 orderCount, uint256 tradeCount) {
        return (orders[interval].length, trades[interval].length);
    }

    /// @inheritdoc ERC1155
    function supportsInterface(bytes4 interfaceId) public view override(ERC1155, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    function _pay(address from, address to, uint256 amountMicro) private {
        uint256 balance = balances[from];
        if (balance < amountMicro) revert InsufficientBalance(from, balance, amountMicro);
        balances[from] = balance - amountMicro;
        balances[to] += amountMicro;
    }
}
