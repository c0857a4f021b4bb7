// Runs an ONNX model in ONNX Runtime (npm onnxruntime-node) on raw tensors, for segtune's tests and
// benchmarks.
//
// usage: node run_ort.js MODEL.onnx INPUT.bin DTYPE N,C,H,W OUT_PREFIX [REPEATS]
//   DTYPE float32 | uint8. Writes OUT_PREFIX.<output name>.bin (raw little-endian data) for each
//   output and prints one JSON line: {"outputs": {name: {"type", "dims"}}, "ms": [...per run]}.
//   ORT_THREADS: intra-op threads (default 0: ONNX Runtime's choice, one per physical core).
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '..', 'node_modules', 'onnxruntime-node'));

async function main() {
  const [modelPath, inputPath, dtype, dimsText, outPrefix, repeatsText] = process.argv.slice(2);
  const dims = dimsText.split(',').map(Number);
  const raw = fs.readFileSync(inputPath);
  const data = dtype === 'uint8'
      ? new Uint8Array(raw.buffer, raw.byteOffset, raw.length)
      : new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  const session = await ort.InferenceSession.create(modelPath, {intraOpNumThreads: Number(process.env.ORT_THREADS || 0)});
  const feeds = {[session.inputNames[0]]: new ort.Tensor(dtype, data, dims)};
  const repeats = Number(repeatsText || 1);
  const ms = [];
  let results;
  for (let i = 0; i < repeats; ++i) {
    const t0 = process.hrtime.bigint();
    results = await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const outputs = {};
  for (const name of session.outputNames) {
    const t = results[name];
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    fs.writeFileSync(`${outPrefix}.${name}.bin`, bytes);
    outputs[name] = {type: t.type, dims: t.dims};
  }
  console.log(JSON.stringify({outputs, ms}));
}

main().catch((e) => {
  console.error(`run_ort.js: ${e.message || e}`);
  process.exit(1);
});
