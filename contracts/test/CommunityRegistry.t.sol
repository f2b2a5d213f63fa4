// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Test} from "./utils/Test.sol";
import {CommunityRegistry} from "../src/CommunityRegistry.sol";
import {ICommunityRegistry} from "../src/interfaces/ICommunityRegistry.sol";

contract CommunityRegistryTest is Test {
    CommunityRegistry internal registry;
    address internal admin = address(this);
    address internal alice = vm.addr(0xA1);
    address internal bob = vm.addr(0xB2);
    address internal stranger = vm.addr(0x5754);
    address internal signerA = vm.addr(0xA11CE);
    address internal signerB = vm.addr(0xA11CF);
    bytes32 internal OPERATOR_ROLE;

    function setUp() public {
        registry = new CommunityRegistry(admin);
        OPERATOR_ROLE = registry.OPERATOR_ROLE();
    }

    function _expectUnauthorized(address account, bytes32 role) internal {
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role));
    }

    // ------------------------------------------------------------------ constructor and roles

    function test_constructor_grantsAdminAndOperator() public view {
        vm.assertTrue(registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), admin), "admin");
        vm.assertTrue(registry.hasRole(OPERATOR_ROLE, admin), "operator");
        vm.assertFalse(registry.isGridOperator(admin), "no grid role by default");
        vm.assertFalse(registry.isMeterGateway(admin), "no gateway role by default");
        vm.assertEq(registry.OPERATOR_ROLE(), keccak256("OPERATOR_ROLE"), "operator role id");
        vm.assertEq(registry.GRID_OPERATOR_ROLE(), keccak256("GRID_OPERATOR_ROLE"), "grid role id");
        vm.assertEq(registry.METER_GATEWAY_ROLE(), keccak256("METER_GATEWAY_ROLE"), "gateway role id");
    }

    function test_constructor_revertsZeroAdmin() public {
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.ZeroAddress.selector));
        new CommunityRegistry(address(0));
    }

    function test_isGridOperator_followsRole() public {
        registry.grantRole(registry.GRID_OPERATOR_ROLE(), bob);
        vm.assertTrue(registry.isGridOperator(bob), "granted");
        registry.revokeRole(registry.GRID_OPERATOR_ROLE(), bob);
        vm.assertFalse(registry.isGridOperator(bob), "revoked");
    }

    function test_isMeterGateway_followsRole() public {
        registry.grantRole(registry.METER_GATEWAY_ROLE(), bob);
        vm.assertTrue(registry.isMeterGateway(bob), "granted");
        vm.assertFalse(registry.isMeterGateway(alice), "not granted");
    }

    function test_grantRole_revertsForNonAdmin() public {
        bytes32 gatewayRole = registry.METER_GATEWAY_ROLE();
        _expectUnauthorized(stranger, registry.DEFAULT_ADMIN_ROLE());
        vm.prank(stranger);
        registry.grantRole(gatewayRole, stranger);
        vm.assertFalse(registry.isMeterGateway(stranger), "not granted");
    }

    // ------------------------------------------------------------------ registerParticipant

    function test_registerParticipant_registersActive() public {
        vm.expectEmit(true, true, true, true, address(registry));
        emit ICommunityRegistry.ParticipantRegistered(alice, 7);
        registry.registerParticipant(alice, 7);
        ICommunityRegistry.Participant memory p = registry.participant(alice);
        vm.assertEq(p.zone, 7, "zone");
        vm.assertTrue(p.registered, "registered");
        vm.assertTrue(p.active, "active");
        vm.assertEq(p.meterId, 0, "no meter");
    }

    function test_registerParticipant_revertsZeroAddress() public {
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.ZeroAddress.selector));
        registry.registerParticipant(address(0), 1);
    }

    function test_registerParticipant_revertsAlreadyRegistered() public {
        registry.registerParticipant(alice, 1);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.ParticipantAlreadyRegistered.selector, alice));
        registry.registerParticipant(alice, 2);
        vm.assertEq(registry.participant(alice).zone, 1, "zone unchanged");
    }

    function test_registerParticipant_revertsAlreadyRegisteredWhenInactive() public {
        registry.registerParticipant(alice, 1);
        registry.setParticipantActive(alice, false);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.ParticipantAlreadyRegistered.selector, alice));
        registry.registerParticipant(alice, 2);
    }

    function test_registerParticipant_revertsWrongRole() public {
        _expectUnauthorized(stranger, OPERATOR_ROLE);
        vm.prank(stranger);
        registry.registerParticipant(alice, 1);
        vm.assertFalse(registry.participant(alice).registered, "not registered");
    }

    // ------------------------------------------------------------------ setParticipantActive

    function test_setParticipantActive_togglesAndEmits() public {
        registry.registerParticipant(alice, 1);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ICommunityRegistry.ParticipantStatusChanged(alice, false);
        registry.setParticipantActive(alice, false);
        vm.assertFalse(registry.participant(alice).active, "inactive");
        vm.assertTrue(registry.participant(alice).registered, "still registered");
        registry.setParticipantActive(alice, true);
        vm.assertTrue(registry.participant(alice).active, "active again");
    }

    function test_setParticipantActive_revertsUnknownParticipant() public {
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.UnknownParticipant.selector, alice));
        registry.setParticipantActive(alice, true);
        vm.assertFalse(registry.participant(alice).active, "still unknown");
    }

    function test_setParticipantActive_revertsWrongRole() public {
        registry.registerParticipant(alice, 1);
        _expectUnauthorized(alice, OPERATOR_ROLE);
        vm.prank(alice);
        registry.setParticipantActive(alice, false);
        vm.assertTrue(registry.participant(alice).active, "unchanged");
    }

    // ------------------------------------------------------------------ registerMeter

    function test_registerMeter_registersWithIdsFromOne() public {
        registry.registerParticipant(alice, 3);
        registry.registerParticipant(bob, 4);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ICommunityRegistry.MeterRegistered(1, signerA, alice, 3, 1);
        uint32 a = registry.registerMeter(signerA, alice, registry.SOURCE_SOLAR());
        uint32 b = registry.registerMeter(signerB, bob, registry.SOURCE_OTHER());
        vm.assertEq(a, 1, "first id");
        vm.assertEq(b, 2, "second id");
        vm.assertEq(registry.meterCount(), 2, "count");
        vm.assertEq(registry.meterIdOf(signerA), 1, "id of signer A");
        vm.assertEq(registry.meterIdOf(signerB), 2, "id of signer B");
        vm.assertEq(registry.meterIdOf(stranger), 0, "unknown signer");
        ICommunityRegistry.Meter memory m = registry.meter(1);
        vm.assertEq(m.owner, alice, "owner");
        vm.assertEq(m.zone, 3, "zone copied from owner");
        vm.assertEq(m.source, 1, "source");
        vm.assertTrue(m.active, "active");
        vm.assertEq(registry.signerOf(1), signerA, "signer");
        vm.assertEq(m.registeredAt, vm.getBlockTimestamp(), "registered now");
        vm.assertEq(registry.participant(alice).meterId, 1, "participant's meter");
    }

    function test_signerOf_revertsUnknownMeterId() public {
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.UnknownMeterId.selector, uint32(9)));
        registry.signerOf(9);
    }

    function test_registerMeter_acceptsEverySource() public {
        for (uint8 s = 1; s <= 4; ++s) {
            address account = vm.addr(0x1000 + s);
            registry.registerParticipant(account, 1);
            uint32 id = registry.registerMeter(vm.addr(0x2000 + s), account, s);
            vm.assertEq(registry.meter(id).source, s, "source");
        }
    }

    function test_registerMeter_revertsZeroSigner() public {
        registry.registerParticipant(alice, 1);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.ZeroAddress.selector));
        registry.registerMeter(address(0), alice, 1);
        vm.assertEq(registry.meterCount(), 0, "no meter");
    }

    function test_registerMeter_revertsUnknownSource() public {
        registry.registerParticipant(alice, 1);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.UnknownSource.selector, 0));
        registry.registerMeter(signerA, alice, 0);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.UnknownSource.selector, 5));
        registry.registerMeter(signerA, alice, 5);
        vm.assertEq(registry.meterCount(), 0, "no meter");
    }

    function test_registerMeter_revertsMeterAlreadyRegistered() public {
        registry.registerParticipant(alice, 1);
        registry.registerParticipant(bob, 1);
        registry.registerMeter(signerA, alice, 1);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.MeterAlreadyRegistered.selector, signerA));
        registry.registerMeter(signerA, bob, 1);
        vm.assertEq(registry.participant(bob).meterId, 0, "bob has no meter");
    }

    function test_registerMeter_revertsReuseOfDeactivatedSigner() public {
        registry.registerParticipant(alice, 1);
        registry.registerMeter(signerA, alice, 1);
        registry.deactivateMeter(1);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.MeterAlreadyRegistered.selector, signerA));
        registry.registerMeter(signerA, alice, 1);
    }

    function test_registerMeter_revertsUnknownParticipant() public {
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.UnknownParticipant.selector, alice));
        registry.registerMeter(signerA, alice, 1);
    }

    function test_registerMeter_revertsParticipantInactive() public {
        registry.registerParticipant(alice, 1);
        registry.setParticipantActive(alice, false);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.ParticipantInactive.selector, alice));
        registry.registerMeter(signerA, alice, 1);
    }

    function test_registerMeter_revertsParticipantAlreadyHasMeter() public {
        registry.registerParticipant(alice, 1);
        registry.registerMeter(signerA, alice, 1);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.ParticipantAlreadyHasMeter.selector, alice, 1));
        registry.registerMeter(signerB, alice, 1);
        vm.assertEq(registry.meterIdOf(signerB), 0, "not registered");
    }

    function test_registerMeter_revertsWrongRole() public {
        registry.registerParticipant(alice, 1);
        _expectUnauthorized(alice, OPERATOR_ROLE);
        vm.prank(alice);
        registry.registerMeter(signerA, alice, 1);
    }

    // ------------------------------------------------------------------ deactivateMeter

    function test_deactivateMeter_deactivatesAndFreesParticipant() public {
        registry.registerParticipant(alice, 1);
        registry.registerMeter(signerA, alice, 1);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ICommunityRegistry.MeterDeactivated(1);
        registry.deactivateMeter(1);
        vm.assertFalse(registry.meter(1).active, "inactive");
        vm.assertEq(registry.participant(alice).meterId, 0, "participant has no meter");
        vm.assertEq(registry.meterIdOf(signerA), 1, "signer still maps to the old id");
        // a replacement meter can be registered
        uint32 id = registry.registerMeter(signerB, alice, 2);
        vm.assertEq(id, 2, "new id");
        vm.assertEq(registry.participant(alice).meterId, 2, "participant's new meter");
    }

    function test_deactivateMeter_isIdempotentWithoutEvent() public {
        registry.registerParticipant(alice, 1);
        registry.registerMeter(signerA, alice, 1);
        registry.deactivateMeter(1);
        uint32 id = registry.registerMeter(signerB, alice, 2);
        vm.recordLogs();
        registry.deactivateMeter(1);
        vm.assertEq(vm.getRecordedLogs().length, 0, "no event");
        vm.assertEq(registry.participant(alice).meterId, id, "replacement untouched");
    }

    function test_deactivateMeter_revertsUnknownMeterId() public {
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.UnknownMeterId.selector, 1));
        registry.deactivateMeter(1);
    }

    function test_deactivateMeter_revertsWrongRole() public {
        registry.registerParticipant(alice, 1);
        registry.registerMeter(signerA, alice, 1);
        _expectUnauthorized(alice, OPERATOR_ROLE);
        vm.prank(alice);
        registry.deactivateMeter(1);
        vm.assertTrue(registry.meter(1).active, "still active");
    }

    // ------------------------------------------------------------------ reactivateMeter

    function test_reactivateMeter_reactivatesFromNowAndEmits() public {
        registry.registerParticipant(alice, 1);
        vm.warp(1_767_225_600);
        registry.registerMeter(signerA, alice, 1);
        registry.deactivateMeter(1);
        vm.warp(1_767_229_200);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ICommunityRegistry.MeterReactivated(1);
        registry.reactivateMeter(1);
        ICommunityRegistry.Meter memory m = registry.meter(1);
        vm.assertTrue(m.active, "active again");
        vm.assertEq(m.registeredAt, 1_767_229_200, "reports from the reactivation on");
        vm.assertEq(m.owner, alice, "owner kept");
        vm.assertEq(m.meterId, 1, "id kept");
        vm.assertEq(registry.participant(alice).meterId, 1, "the participant's meter again");
        vm.assertEq(registry.meterCount(), 1, "no new meter");
        // and it can be paused again
        registry.deactivateMeter(1);
        vm.assertFalse(registry.meter(1).active, "paused again");
    }

    function test_reactivateMeter_isIdempotentWithoutEvent() public {
        registry.registerParticipant(alice, 1);
        vm.warp(1_767_225_600);
        registry.registerMeter(signerA, alice, 1);
        vm.warp(1_767_229_200);
        vm.recordLogs();
        registry.reactivateMeter(1);
        vm.assertEq(vm.getRecordedLogs().length, 0, "no event");
        vm.assertEq(registry.meter(1).registeredAt, 1_767_225_600, "registration time unchanged");
    }

    function test_reactivateMeter_revertsParticipantAlreadyHasMeter() public {
        registry.registerParticipant(alice, 1);
        registry.registerMeter(signerA, alice, 1);
        registry.deactivateMeter(1);
        registry.registerMeter(signerB, alice, 1);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.ParticipantAlreadyHasMeter.selector, alice, 2));
        registry.reactivateMeter(1);
        vm.assertFalse(registry.meter(1).active, "still inactive");
        vm.assertEq(registry.participant(alice).meterId, 2, "replacement kept");
        // once the replacement is deactivated, the old meter may come back
        registry.deactivateMeter(2);
        registry.reactivateMeter(1);
        vm.assertEq(registry.participant(alice).meterId, 1, "old meter back");
    }

    function test_reactivateMeter_revertsParticipantInactive() public {
        registry.registerParticipant(alice, 1);
        registry.registerMeter(signerA, alice, 1);
        registry.deactivateMeter(1);
        registry.setParticipantActive(alice, false);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.ParticipantInactive.selector, alice));
        registry.reactivateMeter(1);
        vm.assertFalse(registry.meter(1).active, "still inactive");
        vm.assertEq(registry.participant(alice).meterId, 0, "no meter");
    }

    function test_reactivateMeter_revertsUnknownMeterId() public {
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.UnknownMeterId.selector, 3));
        registry.reactivateMeter(3);
    }

    function test_reactivateMeter_revertsWrongRole() public {
        registry.registerParticipant(alice, 1);
        registry.registerMeter(signerA, alice, 1);
        registry.deactivateMeter(1);
        _expectUnauthorized(alice, OPERATOR_ROLE);
        vm.prank(alice);
        registry.reactivateMeter(1);
        vm.assertFalse(registry.meter(1).active, "still inactive");
    }

    // ------------------------------------------------------------------ views

    function test_meter_revertsUnknownMeterId() public {
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.UnknownMeterId.selector, 0));
        registry.meter(0);
        vm.expectRevert(abi.encodeWithSelector(ICommunityRegistry.UnknownMeterId.selector, 9));
        registry.meter(9);
    }

    function test_participant_isZeroWhenUnknown() public view {
        ICommunityRegistry.Participant memory p = registry.participant(stranger);
        vm.assertFalse(p.registered, "registered");
        vm.assertFalse(p.active, "active");
        vm.assertEq(p.zone, 0, "zone");
        vm.assertEq(p.meterId, 0, "meter");
        vm.assertEq(registry.meterCount(), 0, "no meters");
    }

    function test_fuzz_registerMeter_roundTrip(uint256 signerKey, uint16 zone, uint8 source) public {
        signerKey = bound(signerKey, 1, 1e70);
        source = uint8(bound(source, 1, 4));
        address signer = vm.addr(signerKey);
        registry.registerParticipant(alice, zone);
        uint32 id = registry.registerMeter(signer, alice, source);
        ICommunityRegistry.Meter memory m = registry.meter(id);
        vm.assertEq(registry.meterIdOf(signer), id, "id");
        vm.assertEq(registry.signerOf(id), signer, "signer");
        vm.assertEq(m.zone, zone, "zone");
        vm.assertEq(m.source, source, "source");
        ICommunityRegistry.Meter memory bySigner = registry.meterOf(signer);
        vm.assertEq(bySigner.meterId, id, "meterOf id");
        vm.assertEq(bySigner.owner, alice, "meterOf owner");
        vm.assertEq(bySigner.zone, zone, "meterOf zone");
    }

    // ------------------------------------------------------------------ meterOf and metersOf

    function test_meterOf_returnsMeterBySigner() public {
        registry.registerParticipant(alice, 65_535);
        vm.warp(1_767_225_600);
        registry.registerMeter(signerA, alice, registry.SOURCE_WIND());
        ICommunityRegistry.Meter memory m = registry.meterOf(signerA);
        vm.assertEq(m.owner, alice, "owner");
        vm.assertEq(m.meterId, 1, "id");
        vm.assertEq(m.zone, 65_535, "largest zone");
        vm.assertEq(m.source, 2, "source");
        vm.assertTrue(m.active, "active");
        vm.assertEq(m.registeredAt, 1_767_225_600, "registered at");
        // the same record as by id
        ICommunityRegistry.Meter memory byId = registry.meter(1);
        vm.assertEq(keccak256(abi.encode(byId)), keccak256(abi.encode(m)), "meter(id) == meterOf(signer)");
    }

    function test_meterOf_isZeroWhenUnknown() public view {
        ICommunityRegistry.Meter memory m = registry.meterOf(stranger);
        vm.assertEq(m.owner, address(0), "owner");
        vm.assertEq(m.meterId, 0, "id");
        vm.assertEq(m.zone, 0, "zone");
        vm.assertEq(m.source, 0, "source");
        vm.assertFalse(m.active, "active");
        vm.assertEq(m.registeredAt, 0, "registered at");
    }

    function test_meterOf_keepsDeactivatedMeter() public {
        registry.registerParticipant(alice, 2);
        registry.registerMeter(signerA, alice, 1);
        registry.deactivateMeter(1);
        ICommunityRegistry.Meter memory m = registry.meterOf(signerA);
        vm.assertFalse(m.active, "inactive");
        vm.assertEq(m.owner, alice, "owner kept");
        vm.assertEq(m.meterId, 1, "id kept");
    }

    function test_metersOf_returnsEachSignersMeterInOrder() public {
        registry.registerParticipant(alice, 3);
        registry.registerParticipant(bob, 4);
        registry.registerMeter(signerA, alice, 1);
        registry.registerMeter(signerB, bob, 3);
        address[] memory signers = new address[](3);
        signers[0] = signerB;
        signers[1] = stranger;
        signers[2] = signerA;
        ICommunityRegistry.Meter[] memory ms = registry.metersOf(signers);
        vm.assertEq(ms.length, 3, "length");
        vm.assertEq(ms[0].meterId, 2, "B");
        vm.assertEq(ms[0].zone, 4, "B zone");
        vm.assertEq(ms[0].source, 3, "B source");
        vm.assertEq(ms[1].owner, address(0), "unknown is zero");
        vm.assertEq(ms[2].meterId, 1, "A");
        vm.assertEq(ms[2].owner, alice, "A owner");
        vm.assertEq(registry.metersOf(new address[](0)).length, 0, "empty");
    }
}
