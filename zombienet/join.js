// `eve: js-script ./join.js return is 0`: Eve's node runs as a validator outside the set. As an
// operator would (docs/operations.md, "Joining and leaving the validator set"), she generates
// session keys with a proof on her own node (author_rotateKeysWithOwner), registers them
// (session.setKeys), and sudo adds her (validators.addValidator). Passes when she is in the
// session's validators, authors a block with her new Aura key, and a block after it is finalized.
"use strict";
const { log, connect, keyring, submit, waitFor } = require("./lib/verity.js");

const hex = (u8a) => "0x" + Buffer.from(u8a).toString("hex");

/// The Aura slot of a header (its `aura` pre-runtime digest, a little-endian u64).
function auraSlot(header) {
  for (const item of header.digest.logs) {
    if (!item.isPreRuntime) continue;
    const [engine, data] = item.asPreRuntime;
    if (Buffer.from(engine.toU8a()).toString() === "aura") {
      return Buffer.from(data.toU8a(true)).readBigUInt64LE(0);
    }
  }
  return undefined;
}

async function run(nodeName, networkInfo) {
  const { api, provider } = await connect(networkInfo.nodesByName[nodeName].wsUri);
  try {
    const ring = keyring();
    const eve = ring.addFromUri("//Eve");
    const alice = ring.addFromUri("//Alice");

    const generated = await provider.send("author_rotateKeysWithOwner", [hex(eve.publicKey)]);
    log("session keys", generated.keys);
    await submit(api, api.tx.session.setKeys(generated.keys, generated.proof), eve);
    await submit(api, api.tx.sudo.sudo(api.tx.validators.addValidator(eve.address)), alice);
    log("Eve added; waiting for the session change");

    await waitFor("Eve in the session's validators", 900, async () => {
      const validators = await api.query.session.validators();
      return validators.some((v) => v.toString() === eve.address) ? true : undefined;
    });
    // The session keys are SCALE (aura, grandpa, vrty), 32 bytes each: Aura's comes first.
    const auraKey = generated.keys.slice(0, 66);
    log("Eve is a validator; waiting for a block authored with", auraKey);

    let seen = 0;
    const authored = await waitFor("a block authored by Eve", 600, async () => {
      const best = (await api.rpc.chain.getHeader()).number.toNumber();
      for (let n = Math.max(seen + 1, best - 20); n <= best; n++) {
        const hash = await api.rpc.chain.getBlockHash(n);
        const header = await api.rpc.chain.getHeader(hash);
        const authorities = await api.query.aura.authorities.at(header.parentHash);
        const slot = auraSlot(header);
        if (slot === undefined || authorities.length === 0) continue;
        const author = authorities[Number(slot % BigInt(authorities.length))];
        if (author.toHex() === auraKey) return n;
      }
      seen = best;
      return undefined;
    });
    log(`Eve authored block #${authored}`);
    await waitFor(`block #${authored} finalized`, 600, async () => {
      const head = await api.rpc.chain.getFinalizedHead();
      const number = (await api.rpc.chain.getHeader(head)).number.toNumber();
      return number >= authored ? number : undefined;
    });
    return 0;
  } finally {
    await api.disconnect();
  }
}

module.exports = { run };
