// A generic client of the Verity chain: with polkadot.js and the chain's metadata alone (no
// Verity code), read a model's input types, encode an input as docs/protocol.md describes, get
// a quote, pay for an attested inference, wait for its receipt and decode the outputs.
//
//   node request.mjs WS_URL MODEL_ID SURI '[[…input 0 values…], …]'
//
// Prints one JSON object: the request id, the receipt's fields and the decoded outputs.

import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { compactAddLength, compactToU8a, u8aConcat, u8aToHex } from '@polkadot/util';

const [url, modelArg, suri, valuesArg] = process.argv.slice(2);
const modelId = Number(modelArg);
const values = JSON.parse(valuesArg);
const DEADLINE_MS = 300_000;

// dtype tags and element sizes of the `Tensor` encoding (docs/protocol.md).
const DTYPES = { F32: [0, 4], I64: [1, 8], I32: [2, 4], I8: [3, 1], U8: [4, 1], Bool: [5, 1] };
const BY_TAG = Object.fromEntries(Object.entries(DTYPES).map(([name, [tag, size]]) => [tag, [name, size]]));

function encodeTensor(dtype, shape, data) {
  const [tag, size] = DTYPES[dtype];
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`${data.length} values for shape [${shape}]`);
  const dims = new DataView(new ArrayBuffer(8 * shape.length));
  shape.forEach((d, i) => dims.setBigUint64(8 * i, BigInt(d), true));
  const bytes = new DataView(new ArrayBuffer(size * count));
  data.forEach((v, i) => {
    switch (dtype) {
      case 'F32': bytes.setFloat32(4 * i, v, true); break;
      case 'I64': bytes.setBigInt64(8 * i, BigInt(v), true); break;
      case 'I32': bytes.setInt32(4 * i, v, true); break;
      case 'I8': bytes.setInt8(i, v); break;
      default: bytes.setUint8(i, v);
    }
  });
  return u8aConcat(
    new Uint8Array([tag]),
    compactToU8a(shape.length),
    new Uint8Array(dims.buffer),
    compactAddLength(new Uint8Array(bytes.buffer)),
  );
}

// Reads a SCALE Compact<u32> at `pos`; returns [value, next position].
function compactAt(u8a, pos) {
  const mode = u8a[pos] & 3;
  if (mode === 0) return [u8a[pos] >> 2, pos + 1];
  if (mode === 1) return [(u8a[pos] | (u8a[pos + 1] << 8)) >> 2, pos + 2];
  if (mode === 2) {
    const v = (u8a[pos] | (u8a[pos + 1] << 8) | (u8a[pos + 2] << 16)) + u8a[pos + 3] * 2 ** 24;
    return [Math.floor(v / 4), pos + 4];
  }
  throw new Error('compact length beyond u32');
}

function decodeTensors(u8a) {
  const view = new DataView(u8a.buffer, u8a.byteOffset, u8a.byteLength);
  let [count, pos] = compactAt(u8a, 0);
  const tensors = [];
  for (let t = 0; t < count; t++) {
    const [dtype, size] = BY_TAG[u8a[pos++]];
    let rank;
    [rank, pos] = compactAt(u8a, pos);
    const shape = [];
    for (let i = 0; i < rank; i++, pos += 8) shape.push(Number(view.getBigUint64(pos, true)));
    let len;
    [len, pos] = compactAt(u8a, pos);
    const data = [];
    for (let i = 0; i < len / size; i++) {
      const at = pos + i * size;
      switch (dtype) {
        case 'F32': data.push(view.getFloat32(at, true)); break;
        case 'I64': data.push(Number(view.getBigInt64(at, true))); break;
        case 'I32': data.push(view.getInt32(at, true)); break;
        case 'I8': data.push(view.getInt8(at)); break;
        default: data.push(view.getUint8(at));
      }
    }
    pos += len;
    tensors.push({ dtype, shape, data });
  }
  if (pos !== u8a.length) throw new Error('trailing bytes after the tensors');
  return tensors;
}

async function main() {
  const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true, throwOnConnect: true });
  const signer = new Keyring({ type: 'sr25519' }).addFromUri(suri);

  const model = (await api.query.models.models(modelId)).unwrap();
  const input = u8aConcat(
    compactToU8a(model.inputs.length),
    ...model.inputs.map((spec, i) =>
      encodeTensor(spec.dtype.type, spec.shape.map((d) => d.toNumber()), values[i])),
  );
  const quote = await api.call.verityApi.quote(modelId, 'Attested');
  const fee = quote.unwrap();

  // Submit and wait for finality; the InferenceRequested event carries the request id. (The
  // bytes go as hex: polkadot.js reads a Uint8Array for `Bytes` as already length-prefixed.)
  const id = await new Promise((resolve, reject) => {
    api.tx.inference
      .requestInference(modelId, u8aToHex(input), 'Attested', fee)
      .signAndSend(signer, ({ status, events, dispatchError }) => {
        if (dispatchError) {
          const e = dispatchError.isModule ? api.registry.findMetaError(dispatchError.asModule) : null;
          reject(new Error(e ? `${e.section}.${e.name}` : dispatchError.toString()));
        } else if (status.isFinalized) {
          const ev = events.find(({ event }) => api.events.inference.InferenceRequested.is(event));
          ev ? resolve(ev.event.data.id.toNumber()) : reject(new Error('no InferenceRequested event'));
        }
      })
      .catch(reject);
  });

  // Follow the receipt in storage until it is written.
  const receipt = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no receipt of request ${id}`)), DEADLINE_MS);
    api.query.inference.receipts(id, (r) => {
      if (r.isSome) {
        clearTimeout(timer);
        resolve(r.unwrap());
      }
    });
  });
  const worker = receipt.workers[0];
  const posted = (await api.call.verityApi.result(id, worker)).unwrap();
  const outputs = decodeTensors(posted.output.toU8a(true));

  console.log(JSON.stringify({
    request: id,
    fee: fee.toString(),
    inputHex: u8aToHex(input),
    outcome: receipt.outcome.type,
    paid: receipt.paid.toString(),
    modelRoot: receipt.modelRoot.toHex(),
    outputHash: receipt.outputHash.toHex(),
    postedOutputHash: posted.outputHash.toHex(),
    worker: worker.toString(),
    outputs,
  }));
  await api.disconnect();
}

main().then(() => process.exit(0), (e) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
