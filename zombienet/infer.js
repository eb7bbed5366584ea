// `<node>: js-script ./infer.js with "MODE,SURI" return is 0`: SURI pays, through <node>'s RPC,
// for one inference of the demo model in MODE, served by the network's own workers; passes when
// the request settles, the outputs match the receipt and (quorum:N) N distinct workers agree.
"use strict";
const { log, inferDemo } = require("./lib/verity.js");

async function run(nodeName, networkInfo, args) {
  const [mode, suri] = args;
  const receipt = await inferDemo(networkInfo.nodesByName[nodeName].wsUri, mode, suri);
  const quorum = mode.startsWith("quorum:") ? Number(mode.slice(7)) : 1;
  const workers = new Set(receipt.workers);
  if (receipt.outcome !== "settled" || !receipt.outputsMatchReceipt || workers.size !== quorum) {
    log("unexpected receipt", JSON.stringify(receipt));
    return 1;
  }
  return 0;
}

module.exports = { run };
