// `alice: js-script ./cheater.js return is 0` on cheater.toml: a quorum of all three workers,
// where Charlie's result carries a tampered leaf. The honest workers' fraud proof decides the
// dispute: the request settles on their result, Charlie is left out of the receipt and loses
// bond, and the honest workers lose none.
"use strict";
const { log, inferDemo, connect, keyring } = require("./lib/verity.js");

async function bonds(api, accounts) {
  const out = {};
  for (const [name, account] of Object.entries(accounts)) {
    const worker = await api.query.workers.workers(account);
    out[name] = worker.unwrap().bond.toBigInt();
  }
  return out;
}

async function run(nodeName, networkInfo) {
  const wsUri = networkInfo.nodesByName[nodeName].wsUri;
  const { api } = await connect(wsUri);
  try {
    const ring = keyring();
    const accounts = Object.fromEntries(
      ["Alice", "Bob", "Charlie"].map((n) => [n, ring.addFromUri(`//${n}`).address]),
    );
    const before = await bonds(api, accounts);
    const receipt = await inferDemo(wsUri, "quorum:3", "//Eve");
    const after = await bonds(api, accounts);
    log("bonds before", before, "after", after);
    let ok = receipt.outcome === "settled" && receipt.outputsMatchReceipt;
    ok = ok && !receipt.workers.includes(accounts.Charlie) && receipt.workers.length === 2;
    ok = ok && after.Charlie < before.Charlie;
    ok = ok && after.Alice >= before.Alice && after.Bob >= before.Bob;
    if (!ok) log("unexpected outcome", JSON.stringify(receipt));
    return ok ? 0 : 1;
  } finally {
    await api.disconnect();
  }
}

module.exports = { run };
