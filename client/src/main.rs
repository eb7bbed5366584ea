//! `verity`: the command line for model owners, agents and auditors.

mod model;

use clap::Parser;

/// Verity: verifiable ML inference.
#[derive(Parser)]
#[command(name = "verity", version, about)]
enum Cli {
	/// Compile, run and benchmark ONNX models with the canonical engine.
	#[command(subcommand)]
	Model(model::ModelCmd),
}

fn main() {
	let result = match Cli::parse() {
		Cli::Model(cmd) => cmd.run(),
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
