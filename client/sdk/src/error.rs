//! What can go wrong, each as one line.

use crate::{Balance, ModelId, RequestId};

/// An SDK error. Its `Display` is one line that says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	/// No node answers at the URL.
	#[error("cannot reach a Verity node at {url}: {reason}")]
	Unreachable {
		/// The URL tried.
		url: String,
		/// Why it failed.
		reason: String,
	},
	/// The model is not registered.
	#[error("unknown model {0}")]
	UnknownModel(ModelId),
	/// The signer does not own the model it tries to change.
	#[error("model {model} belongs to {owner}, not to {signer}")]
	NotOwner {
		/// The model.
		model: ModelId,
		/// Its owner.
		owner: String,
		/// The signer.
		signer: String,
	},
	/// The request neither exists nor has a receipt.
	#[error("unknown request {0}")]
	UnknownRequest(RequestId),
	/// The model does not take requests in this mode (or is deprecated).
	#[error("model {model} takes no {mode} requests")]
	ModeNotOffered {
		/// The model.
		model: ModelId,
		/// The mode asked for.
		mode: String,
	},
	/// The quote exceeds the caller's limit.
	#[error("the fee ({fee} units) is above the maximum ({max_fee} units)")]
	FeeAboveMax {
		/// What the request costs now.
		fee: Balance,
		/// The caller's limit.
		max_fee: Balance,
	},
	/// The account cannot pay.
	#[error("insufficient funds: {needed} units needed, {free} free")]
	InsufficientFunds {
		/// What the call holds or transfers, fees excluded.
		needed: Balance,
		/// The account's free balance.
		free: Balance,
	},
	/// Inputs that do not fit the model.
	#[error("{0}")]
	InputMismatch(String),
	/// A worker call that the signer's worker record rules out (checked before sending).
	#[error("{0}")]
	WorkerState(String),
	/// A wait ran out.
	#[error("timed out after {secs} s waiting for {what}")]
	Timeout {
		/// What was awaited.
		what: String,
		/// The deadline in seconds.
		secs: u64,
	},
	/// The chain refused a transaction (the pallet's error, by name).
	#[error("the chain refused the transaction: {0}")]
	Refused(String),
	/// A secret URI, mnemonic or key file that does not parse.
	#[error("bad account secret: {0}")]
	BadSecret(String),
	/// A receipt check that failed.
	#[error("receipt check failed: {0}")]
	Verification(String),
	/// Anything else from the RPC connection or decoding.
	#[error("{0}")]
	Chain(String),
}

impl Error {
	pub(crate) fn chain(e: impl std::fmt::Display) -> Error {
		Error::Chain(e.to_string())
	}
}
