// Helpers for the zndsl tests' js-scripts: the `verity` CLI (its path in VERITY_CLI, set by
// scripts/zombienet.sh) and polkadot.js (zombienet's own, as the global `zombie`).
"use strict";
const { execFile } = require("child_process");
const path = require("path");

const REPO = path.resolve(__dirname, "..", "..");

/// The demo model's input that `verity infer 0` sends (model 0 of the `local` genesis).
const DEMO_INPUT = path.join(REPO, "models", "mlp-digits", "input_0.npy");

function log(...args) {
  console.log("   ", new Date().toISOString(), ...args);
}

/// Runs the `verity` CLI; resolves to its stdout, rejects with its one-line error.
function verity(args, timeoutSeconds) {
  const cli = process.env.VERITY_CLI;
  if (!cli) throw new Error("VERITY_CLI is not set (run through scripts/zombienet.sh)");
  log("verity", args.join(" "));
  return new Promise((resolve, reject) => {
    execFile(cli, args, { timeout: timeoutSeconds * 1000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`verity ${args[0]} failed (${err.code}): ${stderr.trim()}`));
      else resolve(stdout);
    });
  });
}

/// Pays for one inference of the demo model in `mode` through the node at `wsUri` and follows
/// it to its receipt; resolves to the receipt (`verity infer --json`).
async function inferDemo(wsUri, mode, suri) {
  const out = await verity(
    ["infer", "0", "--input", DEMO_INPUT, "--mode", mode, "--suri", suri,
      "--url", wsUri, "--timeout", "500", "--json"],
    560,
  );
  const receipt = JSON.parse(out.trim().split("\n").pop());
  log(`request ${receipt.request}: ${receipt.outcome} by ${receipt.workers.join(", ")}`);
  return receipt;
}

/// polkadot.js on the node at `wsUri`: the API and its provider (for raw RPC calls the API does
/// not decorate).
async function connect(wsUri) {
  const { ApiPromise, WsProvider } = zombie;
  const provider = new WsProvider(wsUri);
  const api = await ApiPromise.create({ provider, noInitWarn: true });
  return { api, provider };
}

function keyring() {
  return new zombie.Keyring({ type: "sr25519", ss58Format: 42 });
}

/// Signs and submits `tx`, resolving once it is in a block and failing on a dispatch error
/// (the extrinsic's own, or the inner call's of a `sudo.sudo`).
function submit(api, tx, signer) {
  return new Promise((resolve, reject) => {
    let unsub = () => {};
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      const fail = (e) => {
        unsub();
        if (e.isModule) {
          const { section, name } = api.registry.findMetaError(e.asModule);
          reject(new Error(`${tx.method.section}.${tx.method.method}: ${section}.${name}`));
        } else reject(new Error(`${tx.method.section}.${tx.method.method}: ${e.toString()}`));
      };
      if (dispatchError) return fail(dispatchError);
      if (!status.isInBlock) return;
      for (const { event } of events) {
        if (api.events.sudo && api.events.sudo.Sudid.is(event) && event.data[0].isErr) {
          return fail(event.data[0].asErr);
        }
      }
      unsub();
      resolve(status.asInBlock);
    }).then((u) => (unsub = u), reject);
  });
}

/// Polls `check` (an async function returning a value or undefined) once a second until it
/// returns a value or `seconds` pass.
async function waitFor(what, seconds, check) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

module.exports = { REPO, log, verity, inferDemo, connect, keyring, submit, waitFor };
