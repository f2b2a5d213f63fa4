// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {IEnergyMarket} from "../src/interfaces/IEnergyMarket.sol";
import {EnergyRoot} from "../src/libraries/EnergyRoot.sol";

/// @notice The energy tree of {EnergyRoot} against the fixture's independent one, and the fixture's
/// proofs against OpenZeppelin's {MerkleProof} (which the market uses to redeem claims).
contract EnergyRootTest is MarketFixture {
    function _randomLeaves(uint256 seed, uint256 count) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](count);
        for (uint256 k; k < count; ++k) {
            leaves[k] = keccak256(abi.encode(seed, k));
        }
    }

    function _copyOf(bytes32[] memory a) internal pure returns (bytes32[] memory b) {
        b = new bytes32[](a.length);
        for (uint256 k; k < a.length; ++k) {
            b[k] = a[k];
        }
    }

    function test_fuzz_root_matchesFixtureTreeAndEveryProofVerifies(uint256 seed, uint256 count) public pure {
        count = bound(count, 1, 40);
        bytes32[] memory leaves = _randomLeaves(seed, count);
        bytes32 root = EnergyRoot.root(_copyOf(leaves), count);
        vm.assertEq(root, _merkleRoot(leaves), "root");
        for (uint256 k; k < count; ++k) {
            bytes32[] memory proof = _merkleProof(leaves, k);
            vm.assertTrue(MerkleProof.verify(proof, root, leaves[k]), "proof verifies");
            // a proof does not verify another leaf
            vm.assertFalse(MerkleProof.verify(proof, root, leaves[(k + 1) % count]) && count > 1, "proof is specific");
        }
    }

    function test_root_isZeroForNoLeaves() public pure {
        vm.assertEq(EnergyRoot.root(new bytes32[](4), 0), bytes32(0), "no leaves");
    }

    function test_root_ofOneLeafIsTheLeaf() public pure {
        bytes32[] memory one = _randomLeaves(1, 1);
        vm.assertEq(EnergyRoot.root(_copyOf(one), 1), one[0], "one leaf");
        vm.assertEq(_merkleProof(one, 0).length, 0, "empty proof");
    }

    function test_root_carriesOddNodeUp() public pure {
        bytes32[] memory l = _randomLeaves(7, 5);
        bytes32 expected = _hashPair(_hashPair(_hashPair(l[0], l[1]), _hashPair(l[2], l[3])), l[4]);
        vm.assertEq(EnergyRoot.root(_copyOf(l), 5), expected, "five leaves");
        vm.assertEq(_merkleProof(l, 4).length, 1, "the odd leaf's proof skips two levels");
    }

    function test_root_usesOnlyTheFirstCountLeaves() public pure {
        bytes32[] memory l = _randomLeaves(3, 6);
        bytes32[] memory firstThree = new bytes32[](3);
        for (uint256 k; k < 3; ++k) {
            firstThree[k] = l[k];
        }
        vm.assertEq(EnergyRoot.root(_copyOf(l), 3), _merkleRoot(firstThree), "prefix");
    }

    function test_fuzz_leaf_isDoubleHashedAbiEncoding(
        uint64 interval,
        uint32 index,
        address recipient,
        uint32 sellerMeterId,
        uint256 tokenId,
        uint64 energyWh
    ) public pure {
        IEnergyMarket.EnergyClaim memory claim = IEnergyMarket.EnergyClaim({
            index: index, recipient: recipient, sellerMeterId: sellerMeterId, tokenId: tokenId, energyWh: energyWh
        });
        vm.assertEq(
            EnergyRoot.leaf(interval, index, recipient, sellerMeterId, tokenId, energyWh), _leaf(interval, claim), "leaf"
        );
    }
}
