// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ICommunityRegistry} from "./interfaces/ICommunityRegistry.sol";

/// @title PeerGrid community registry
/// @notice See {ICommunityRegistry}.
contract CommunityRegistry is ICommunityRegistry, AccessControl {
    /// @notice Onboards participants and meters, sets tariffs.
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    /// @notice Supplier of last resort; may be the market's grid account.
    bytes32 public constant GRID_OPERATOR_ROLE = keccak256("GRID_OPERATOR_ROLE");
    /// @notice Relays signed meter readings to the market.
    bytes32 public constant METER_GATEWAY_ROLE = keccak256("METER_GATEWAY_ROLE");

    uint8 public constant SOURCE_SOLAR = 1;
    uint8 public constant SOURCE_WIND = 2;
    uint8 public constant SOURCE_BATTERY = 3;
    uint8 public constant SOURCE_OTHER = 4;

    mapping(address account => Participant) private _participants;
    mapping(address signer => Meter) private _meters;
    mapping(uint32 meterId => address signer) private _signerOf;
    uint32 private _meterCount;

    /// @param admin receives the admin and operator roles
    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(OPERATOR_ROLE, admin);
    }

    /// @inheritdoc ICommunityRegistry
    function registerParticipant(address account, uint16 zone) external onlyRole(OPERATOR_ROLE) {
        if (account == address(0)) revert ZeroAddress();
        if (_participants[account].registered) revert ParticipantAlreadyRegistered(account);
        _participants[account] = Participant({zone: zone, registered: true, active: true, meterId: 0});
        emit ParticipantRegistered(account, zone);
    }

    /// @inheritdoc ICommunityRegistry
    function setParticipantActive(address account, bool active) external onlyRole(OPERATOR_ROLE) {
        Participant storage p = _participants[account];
        if (!p.registered) revert UnknownParticipant(account);
        p.active = active;
        emit ParticipantStatusChanged(account, active);
    }

    /// @inheritdoc ICommunityRegistry
    function registerMeter(address signer, address owner, uint8 source)
        external
        onlyRole(OPERATOR_ROLE)
        returns (uint32 meterId)
    {
        if (signer == address(0)) revert ZeroAddress();
        if (source == 0 || source > SOURCE_OTHER) revert UnknownSource(source);
        if (_meters[signer].owner != address(0)) revert MeterAlreadyRegistered(signer);
        Participant storage p = _participants[owner];
        if (!p.registered) revert UnknownParticipant(owner);
        if (!p.active) revert ParticipantInactive(owner);
        if (p.meterId != 0) revert ParticipantAlreadyHasMeter(owner, p.meterId);

        meterId = ++_meterCount;
        _meters[signer] = Meter({
            owner: owner,
            meterId: meterId,
            zone: p.zone,
            source: source,
            active: true,
            registeredAt: uint32(block.timestamp)
        });
        _signerOf[meterId] = signer;
        p.meterId = meterId;
        emit MeterRegistered(meterId, signer, owner, p.zone, source);
    }

    /// @inheritdoc ICommunityRegistry
    function deactivateMeter(uint32 meterId) external onlyRole(OPERATOR_ROLE) {
        address signer = _signerOf[meterId];
        if (signer == address(0)) revert UnknownMeterId(meterId);
        Meter storage m = _meters[signer];
        if (!m.active) return;
        m.active = false;
        Participant storage p = _participants[m.owner];
        if (p.meterId == meterId) p.meterId = 0;
        emit MeterDeactivated(meterId);
    }

    /// @inheritdoc ICommunityRegistry
    function reactivateMeter(uint32 meterId) external onlyRole(OPERATOR_ROLE) {
        address signer = _signerOf[meterId];
        if (signer == address(0)) revert UnknownMeterId(meterId);
        Meter storage m = _meters[signer];
        if (m.active) return;
        Participant storage p = _participants[m.owner];
        if (!p.active) revert ParticipantInactive(m.owner);
        if (p.meterId != 0) revert ParticipantAlreadyHasMeter(m.owner, p.meterId);
        m.active = true;
        // From now, as a new registration: the intervals in between may have been reported by a replacement.
        m.registeredAt = uint32(block.timestamp);
        p.meterId = meterId;
        emit MeterReactivated(meterId);
    }

    /// @inheritdoc ICommunityRegistry
    function participant(address account) external view returns (Participant memory) {
        return _participants[account];
    }

    /// @inheritdoc ICommunityRegistry
    function meter(uint32 meterId) external view returns (Meter memory) {
        address signer = _signerOf[meterId];
        if (signer == address(0)) revert UnknownMeterId(meterId);
        return _meters[signer];
    }

    /// @inheritdoc ICommunityRegistry
    function meterOf(address signer) external view returns (Meter memory) {
        return _meters[signer];
    }

    /// @inheritdoc ICommunityRegistry
    function meterWords(address[] calldata signers) external view returns (uint256[] memory words) {
        uint256 n = signers.length;
        words = new uint256[](n);
        // One slot read per signer, in assembly: this runs once per meter reading, and Solidity's bounds
        // checks and mapping helper cost more than the read's own bookkeeping. A dirty address reverts, as
        // the ABI decoder would.
        assembly ("memory-safe") {
            let slot := _meters.slot
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let signer := calldataload(add(signers.offset, shl(5, i)))
                if shr(160, signer) { revert(0, 0) }
                mstore(0x00, signer)
                mstore(0x20, slot)
                mstore(add(add(words, 0x20), shl(5, i)), sload(keccak256(0x00, 0x40)))
            }
        }
    }

    /// @inheritdoc ICommunityRegistry
    function metersOf(address[] calldata signers) external view returns (Meter[] memory out) {
        out = new Meter[](signers.length);
        for (uint256 i; i < signers.length; ++i) {
            out[i] = _meters[signers[i]];
        }
    }

    /// @inheritdoc ICommunityRegistry
    function signerOf(uint32 meterId) external view returns (address) {
        address signer = _signerOf[meterId];
        if (signer == address(0)) revert UnknownMeterId(meterId);
        return signer;
    }

    /// @inheritdoc ICommunityRegistry
    function meterIdOf(address signer) external view returns (uint32) {
        return _meters[signer].meterId;
    }

    /// @inheritdoc ICommunityRegistry
    function meterCount() external view returns (uint32) {
        return _meterCount;
    }

    /// @inheritdoc ICommunityRegistry
    function isGridOperator(address account) external view returns (bool) {
        return hasRole(GRID_OPERATOR_ROLE, account);
    }

    /// @inheritdoc ICommunityRegistry
    function isMeterGateway(address account) external view returns (bool) {
        return hasRole(METER_GATEWAY_ROLE, account);
    }
}
