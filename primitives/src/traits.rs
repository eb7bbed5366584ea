//! The seams between Verity's pallets: the inference pallet reaches models and workers only
//! through these traits.

use alloc::vec::Vec;
use sp_runtime::DispatchResult;

use crate::{
	crypto::WorkerPublic,
	types::{ModelId, ModelInfo},
};

/// Read access to registered models and the in-flight bookkeeping that keeps a model (and its
/// deposit) alive while requests reference it.
pub trait ModelRegistry<AccountId, Balance, BlockNumber> {
	/// The model `id`, if registered.
	fn model(id: ModelId) -> Option<ModelInfo<AccountId, Balance, BlockNumber>>;

	/// Whether a fraud proof can still carry `model`'s heaviest node: its claimed single-node
	/// cost and footprint are within the registry's current limits, which a re-benchmark or an
	/// upgrade may have lowered since the model was registered.
	fn fits_fraud_proofs(model: &ModelInfo<AccountId, Balance, BlockNumber>) -> bool;

	/// A request for `id` was opened. Fails if the model is unknown or deprecated.
	fn request_opened(id: ModelId) -> DispatchResult;

	/// A request for `id` finished (settled, refunded or rejected).
	fn request_closed(id: ModelId);
}

/// The worker set: bonded accounts that serve inference requests.
pub trait WorkerRegistry<AccountId, Balance> {
	/// Whether `who` is bonded, not unbonding, and may be assigned new requests.
	fn is_active(who: &AccountId) -> bool;

	/// Up to `count` distinct active workers, none in `exclude`, chosen deterministically from
	/// `seed` (pseudo-random; see the workers pallet for the rule).
	fn select(seed: &[u8; 32], count: u32, exclude: &[AccountId]) -> Vec<AccountId>;

	/// Moves up to `amount` of `who`'s bond to `beneficiary`'s free balance and counts a slash.
	/// Returns what was moved (less when the bond is smaller).
	fn slash(who: &AccountId, amount: Balance, beneficiary: &AccountId) -> Balance;

	/// Moves up to `amount` of `who`'s bond to `beneficiary` for a missed deadline and counts
	/// the miss. Returns what was moved.
	fn penalise_missed(who: &AccountId, amount: Balance, beneficiary: &AccountId) -> Balance;

	/// `who` delivered an accepted result.
	fn note_served(who: &AccountId);

	/// `who`'s bond: what slashes and penalties can take from (zero for a non-worker).
	fn bond(who: &AccountId) -> Balance;

	/// The key `who`'s off-chain worker signs with, if `who` is a registered worker (active or
	/// not).
	fn worker_key(who: &AccountId) -> Option<WorkerPublic>;

	/// The registered worker that signs with `key`.
	fn worker_of_key(key: &WorkerPublic) -> Option<AccountId>;
}
