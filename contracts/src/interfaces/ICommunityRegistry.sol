// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Community registry: who takes part, which meters they own, and in which grid zone.
/// @notice Roles: the operator onboards participants and meters, the grid operator is the supplier
/// of last resort, meter gateways relay signed readings. A participant has at most one active meter:
/// the meter at its grid connection point, whose net export and import is what the market trades.
interface ICommunityRegistry {
    /// @notice A participant as the market sees it.
    /// @param zone grid zone (feeder or substation) of the participant's connection
    /// @param registered whether the account was ever onboarded
    /// @param active whether the participant may trade
    /// @param meterId the participant's active meter, 0 when none
    struct Participant {
        uint16 zone;
        bool registered;
        bool active;
        uint32 meterId;
    }

    /// @notice A smart meter with its own signing key.
    /// @param owner the participant whose connection the meter measures
    /// @param meterId the meter's id, from 1
    /// @param zone grid zone, copied from the owner when the meter was registered
    /// @param source what produces the exported energy (see SOURCE_* constants)
    /// @param active whether readings signed by this meter are accepted
    /// @param registeredAt when the meter was registered or last reactivated: it can only report intervals that
    /// start later, so a replacement meter never reports an interval its predecessor may have reported, nor a
    /// reactivated meter one its replacement may have reported
    /// @dev Exactly one storage slot (160 + 32 + 16 + 8 + 8 + 32 bits), keyed by the signing address: a
    /// reading names its meter by that address, so verifying it costs one storage read in the registry.
    struct Meter {
        address owner;
        uint32 meterId;
        uint16 zone;
        uint8 source;
        bool active;
        uint32 registeredAt;
    }

    /// @notice The account is zero.
    error ZeroAddress();
    /// @notice The account is already a participant.
    error ParticipantAlreadyRegistered(address account);
    /// @notice The account is not a participant.
    error UnknownParticipant(address account);
    /// @notice The participant is registered but not active.
    error ParticipantInactive(address account);
    /// @notice The participant already has an active meter; deactivate it first.
    error ParticipantAlreadyHasMeter(address account, uint32 meterId);
    /// @notice A meter with this signing address exists already.
    error MeterAlreadyRegistered(address signer);
    /// @notice No meter has this signing address.
    error UnknownMeter(address signer);
    /// @notice No meter has this id.
    error UnknownMeterId(uint32 meterId);
    /// @notice The energy source code is not one of the SOURCE_* constants.
    error UnknownSource(uint8 source);

    /// @notice A participant was onboarded.
    event ParticipantRegistered(address indexed account, uint16 zone);
    /// @notice A participant was activated or deactivated.
    event ParticipantStatusChanged(address indexed account, bool active);
    /// @notice A meter was registered for its owner.
    event MeterRegistered(uint32 indexed meterId, address indexed signer, address indexed owner, uint16 zone, uint8 source);
    /// @notice A meter was deactivated; its readings are refused from now on.
    event MeterDeactivated(uint32 indexed meterId);
    /// @notice A deactivated meter was reactivated; it reports again from the next interval that starts.
    event MeterReactivated(uint32 indexed meterId);

    /// @notice Onboards `account` in grid `zone`. Operator only.
    function registerParticipant(address account, uint16 zone) external;

    /// @notice Activates or deactivates a participant. Operator only.
    function setParticipantActive(address account, bool active) external;

    /// @notice Registers the meter whose key has address `signer` for `owner`. Operator only.
    /// @return meterId the new meter's id, starting at 1
    function registerMeter(address signer, address owner, uint8 source) external returns (uint32 meterId);

    /// @notice Deactivates a meter (replaced, broken or compromised). Operator only.
    function deactivateMeter(uint32 meterId) external;

    /// @notice Reactivates a deactivated meter (paused, or repaired) as its owner's meter again, from now: its
    /// `registeredAt` becomes the current time, so it reports only intervals that start later. Its owner must be
    /// active and have no other active meter. Operator only; does nothing when the meter is active.
    function reactivateMeter(uint32 meterId) external;

    /// @notice The participant record of `account` (zero when unknown).
    function participant(address account) external view returns (Participant memory);

    /// @notice The meter with id `meterId`; reverts when unknown.
    function meter(uint32 meterId) external view returns (Meter memory);

    /// @notice The meter whose signing address is `signer`; all zero when unknown (no revert, so the
    /// market can name the meter in its own error).
    function meterOf(address signer) external view returns (Meter memory);

    /// @notice The stored meter records of `signers` as raw words, in one call: the market's reading path.
    /// Layout (Solidity's struct packing, low bits first): owner (bits 0-159), meterId (160-191), zone
    /// (192-207), source (208-215), active (216-223), registeredAt (224-255); zero when unknown. One call
    /// and no struct decoding per batch saves ~1k gas per reading over calling {meterOf} for each.
    function meterWords(address[] calldata signers) external view returns (uint256[] memory words);

    /// @notice {meterOf} for many signers in one call (for keepers and gateways, not for contracts).
    function metersOf(address[] calldata signers) external view returns (Meter[] memory);

    /// @notice The signing address (the meter's key) of meter `meterId`; reverts when unknown.
    function signerOf(uint32 meterId) external view returns (address);

    /// @notice The id of the meter with signing address `signer`, 0 when unknown.
    function meterIdOf(address signer) external view returns (uint32);

    /// @notice Number of meters ever registered; ids run from 1 to this.
    function meterCount() external view returns (uint32);

    /// @notice Whether `account` holds the grid-operator role.
    function isGridOperator(address account) external view returns (bool);

    /// @notice Whether `account` holds the meter-gateway role.
    function isMeterGateway(address account) external view returns (bool);
}
