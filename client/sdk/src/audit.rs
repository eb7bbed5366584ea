//! Auditing results: re-execute a request's model locally, compare each posted trace with the
//! local one leaf by leaf, and prove the first divergence with a fraud proof.
//!
//! Nothing here trusts the RPC node's computation: the local execution is the canonical engine
//! on the request's on-chain input, and the chain re-executes the challenged node itself.

use subxt::utils::Static;
use verity_engine::{ExecOptions, ModelTree, Prepared};
use verity_primitives::{
	fraud::{first_difference, proof_material, Execution},
	host::Divergence,
};

use crate::{chain, AccountId, Balance, Client, Error, Keypair, RequestId};

/// What an audit found about one worker's result.
#[derive(Clone, Debug)]
pub enum Finding {
	/// The worker's trace is the local execution's, leaf for leaf.
	Agrees,
	/// The traces differ first at `divergence.node_index`; the material proves it.
	Diverges(Divergence),
	/// The traces differ only past the end of the local trace (it failed earlier than the
	/// worker claims and the difference is not at that node): nothing provable.
	Unprovable,
	/// The chain no longer keeps the worker's trace leaves: the result can no longer be
	/// challenged.
	NoTrace,
}

/// One worker's result on the audited request.
#[derive(Clone, Debug)]
pub struct Audited {
	/// The worker.
	pub worker: AccountId,
	/// What the audit found.
	pub finding: Finding,
}

/// How the chain judged a fraud proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
	/// The worker's leaf was wrong: it was slashed.
	FraudProven {
		/// The re-executed node.
		node: u32,
		/// Taken from the worker's bond.
		slashed: Balance,
		/// Of which the requester got.
		to_requester: Balance,
		/// Of which the challenger got.
		to_challenger: Balance,
	},
	/// The worker's leaf was right: the challenger's bond went to it.
	ChallengeFailed {
		/// The re-executed node.
		node: u32,
		/// What the challenger forfeited.
		bond: Balance,
	},
}

impl Client {
	/// Audits every result posted on request `id` against a local execution of `prepared` (the
	/// request's model, compiled by the caller; `tree` is its commitment tree). Fails when the
	/// program is not the request's model or the chain no longer keeps the request's input.
	pub async fn audit(
		&self,
		id: RequestId,
		prepared: &Prepared,
		tree: &ModelTree,
	) -> Result<Vec<Audited>, Error> {
		let (model_root, workers): (_, Vec<AccountId>) = match self.request(id).await? {
			Some(r) => (
				r.model_root,
				r.assignments.iter().map(|a| a.worker.clone()).collect(),
			),
			None => match self.receipt(id).await? {
				Some(r) => (r.model_root, r.workers.to_vec()),
				None => return Err(Error::UnknownRequest(id)),
			},
		};
		if tree.root() != model_root.0 {
			return Err(Error::InputMismatch(format!(
				"the model given is not the model of request {id} (root {model_root:?})"
			)));
		}
		let inputs = self.request_input(id).await?.ok_or_else(|| {
			Error::Chain(format!(
				"the input of request {id} is no longer kept: it can no longer be challenged"
			))
		})?;
		let ours = Execution::run(prepared, &inputs, &ExecOptions::default())
			.map_err(|e| Error::Chain(format!("local execution of request {id}: {e:?}")))?;
		let mut audited = Vec::new();
		for worker in workers {
			let Some(posted) = self.result(id, &worker).await? else {
				continue;
			};
			let finding = match posted.leaves {
				None => Finding::NoTrace,
				Some(theirs)
					if theirs == ours.leaves && posted.result.failed_at == ours.failed_at =>
				{
					Finding::Agrees
				}
				Some(theirs) => {
					match first_difference(&ours.leaves, ours.failed_at.is_some(), &theirs) {
						Some(node) => Finding::Diverges(
							proof_material(prepared.program(), tree, &inputs, node).map_err(
								|e| Error::Chain(format!("proof material at node {node}: {e:?}")),
							)?,
						),
						None => Finding::Unprovable,
					}
				}
			};
			audited.push(Audited { worker, finding });
		}
		Ok(audited)
	}

	/// Submits the fraud proof `divergence` against `worker`'s result on request `id`, signed
	/// by `signer` (who stakes the chain's `ChallengeBond` on it), and returns the verdict.
	pub async fn challenge(
		&self,
		signer: &Keypair,
		id: RequestId,
		worker: &AccountId,
		divergence: Divergence,
	) -> Result<Verdict, Error> {
		let at = self.api().at_current_block().await.map_err(Error::chain)?;
		let bond = at
			.constants()
			.entry(chain::constants().inference().challenge_bond())
			.map_err(Error::chain)?;
		self.ensure_funds(signer, bond).await?;
		let inputs = divergence
			.inputs
			.into_iter()
			.map(|i| i.map(Static))
			.collect();
		let call = chain::transactions().inference().challenge(
			id,
			worker.clone(),
			divergence.node_index,
			Static(divergence.node),
			Static(divergence.node_proof),
			chain::runtime_types::bounded_collections::bounded_vec::BoundedVec(inputs),
		);
		let events = self.submit(&call, signer).await?;
		if let Some(proven) = events
			.find_first::<chain::inference::events::FraudProven>()
			.transpose()
			.map_err(Error::chain)?
		{
			return Ok(Verdict::FraudProven {
				node: proven.node,
				slashed: proven.slashed,
				to_requester: proven.to_requester,
				to_challenger: proven.to_challenger,
			});
		}
		match events
			.find_first::<chain::inference::events::ChallengeFailed>()
			.transpose()
			.map_err(Error::chain)?
		{
			Some(failed) => Ok(Verdict::ChallengeFailed {
				node: failed.node,
				bond: failed.bond,
			}),
			None => Err(Error::Chain("the challenge emitted no verdict".into())),
		}
	}
}
