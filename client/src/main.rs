//! `verity`: the command line for model owners, agents and auditors.

mod audit;
mod chain;
mod mcp;
mod model;

use clap::Parser;

/// Verity: verifiable ML inference.
#[derive(Parser)]
#[command(name = "verity", version, about)]
enum Cli {
	/// Compile, run and benchmark ONNX models with the canonical engine.
	#[command(subcommand)]
	Model(model::ModelCmd),
	/// Pay for a verified inference and follow it to its receipt.
	Infer(chain::InferArgs),
	/// Show receipts, and check them without trusting the RPC node.
	#[command(subcommand)]
	Receipt(chain::ReceiptCmd),
	/// Re-execute a request locally and prove a wrong result wrong (a fraud proof).
	Audit(audit::AuditArgs),
	/// Register and manage a worker.
	#[command(subcommand)]
	Worker(chain::WorkerCmd),
	/// Balances and transfers.
	#[command(subcommand)]
	Account(chain::AccountCmd),
	/// Serve the Model Context Protocol on stdio: AI agents list models, get quotes, buy
	/// verified inferences within a spending limit and check receipts.
	Mcp(mcp::McpArgs),
}

fn main() {
	let result = match Cli::parse() {
		Cli::Model(cmd) => cmd.run(),
		Cli::Infer(args) => args.run(),
		Cli::Receipt(cmd) => cmd.run(),
		Cli::Audit(args) => args.run(),
		Cli::Worker(cmd) => cmd.run(),
		Cli::Account(cmd) => cmd.run(),
		Cli::Mcp(args) => args.run(),
	};
	if let Err(e) = result {
		eprintln!("error: {}", one_line(&e));
		std::process::exit(1);
	}
}

/// The error and its causes on one line, outermost first, skipping a cause whose text the
/// previous message already includes (many library errors print their source themselves).
fn one_line(e: &anyhow::Error) -> String {
	let mut line = String::new();
	for cause in e.chain() {
		let text = cause.to_string();
		if !line.contains(&text) {
			if !line.is_empty() {
				line.push_str(": ");
			}
			line.push_str(&text);
		}
	}
	line
}
