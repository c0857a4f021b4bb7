#!/usr/bin/env bash
# Peak memory of every verb that decodes, on the bomb inputs of tools/bomb_inputs.py (issue 18 item 7;
# the table in docs/security.md). Builds a tiny dataset and three one-step models first (~1 minute).
#   tools/bomb_memory.sh BUILD_DIR WORK_DIR [--with-8k]
# Prints one line per run: exit code, peak RSS (GNU time's %M), seconds and the first error/warning.
# --with-8k adds the in-limit 8000x8000 image (takes minutes and up to ~7 GB).
set -uo pipefail
build=$(cd "${1:?usage: bomb_memory.sh BUILD_DIR WORK_DIR [--with-8k]}" && pwd)
work=${2:?usage: bomb_memory.sh BUILD_DIR WORK_DIR [--with-8k]}
with_8k=${3:-}
tools=$(cd "$(dirname "$0")" && pwd)
S="$build/segtune"
mkdir -p "$work" && cd "$work" || exit 1
rm -rf syn run-* out-* *.json *.config *.pbtxt

quiet() { "$@" >setup.log 2>&1 || { cat setup.log; echo "setup failed: $*" >&2; exit 1; }; }
quiet "$S" synth --out syn -n 6 --size 128x128
quiet "$S" labelbox2coco syn/export.json -o lb.json
quiet "$S" download lb.json --images-dir images -o coco.json --allow-file-urls syn
quiet "$S" labelmap coco.json -o label_map.pbtxt
quiet "$S" coco2tfrecord --annotations coco.json --images-dir . -o train.record --include-masks --semantic-masks
python3 "$tools/bomb_inputs.py" . syn/images/synth_000000.jpg
config() {  # config MODEL RECORD OUT
  quiet "$S" config init --model "$1" --label-map label_map.pbtxt --train "$2" -o "$3" --batch-size 1 \
    --num-steps 1 --input-size 128
}
config lraspp_mobilenet_v3_large train.record sem.config
config fasterrcnn_mobilenet_v3_large_fpn train.record det.config
quiet "$S" train --pipeline-config sem.config --train-dir run-sem
quiet "$S" train --pipeline-config det.config --train-dir run-det
quiet "$S" export --pipeline-config sem.config --checkpoint run-sem/ckpt-1 -o sem-export
quiet "$S" export --pipeline-config det.config --checkpoint run-det/ckpt-1 -o det-export

python3 - <<'PY'
import json
coco = json.load(open('coco.json'))
image = coco['images'][0]
keep = [a for a in coco['annotations'] if a['image_id'] == image['id']]
def write(name, **changes):
    json.dump(dict(coco, images=[dict(image, **changes)], annotations=keep), open(name, 'w'))
write('coco_url_bomb.json', file_name='http://127.0.0.1:PORT/bomb20k.png', coco_url='http://127.0.0.1:PORT/bomb20k.png')
write('coco_local_bomb.json', file_name='bomb20k.png', width=20000, height=20000)
json.dump([{"ID": "row1", "DataRow ID": "dr1", "External ID": "a.jpg",
            "Labeled Data": "http://127.0.0.1:PORT/syn/images/synth_000000.jpg",
            "Label": {"objects": [{"featureId": "f1", "schemaId": "s1", "title": "bottle", "value": "bottle",
                                   "instanceURI": "http://127.0.0.1:PORT/bomb30k.png"}]}}], open('lb_bomb.json', 'w'))
PY
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -i "s/PORT/$port/g" coco_url_bomb.json lb_bomb.json
python3 -m http.server "$port" --bind 127.0.0.1 >http.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
sleep 1

measure() {  # measure LABEL COMMAND...
  local label=$1
  shift
  /usr/bin/time -f "%M %e" -o time.out "$@" >out.txt 2>&1
  local rc=$? kb secs
  read -r kb secs < <(tail -1 time.out)
  printf "%-44s exit %d  peak %5d MB  %6.1f s | %s\n" "$label" "$rc" $((kb / 1024)) "$secs" \
    "$(grep -m1 -iE 'error|warning' out.txt | cut -c1-150)"
}
for b in img_bomb cls_bomb mask_bomb; do
  sed "s#train.record#$b.record#g" sem.config >"sem-$b.config"
  sed "s#train.record#$b.record#g" det.config >"det-$b.config"
  measure "train lraspp $b" "$S" train --pipeline-config "sem-$b.config" --train-dir "run-sem-$b"
  measure "train fasterrcnn $b" "$S" train --pipeline-config "det-$b.config" --train-dir "run-det-$b"
  measure "eval --model lraspp $b" "$S" eval --model sem-export --data "$b.record" -o "out-e1-$b.json"
  measure "eval --model fasterrcnn $b" "$S" eval --model det-export --data "$b.record" -o "out-e2-$b.json"
  measure "infer lraspp $b" "$S" infer -m sem-export -i "$b.record" -o "out-i1-$b.record"
  measure "infer fasterrcnn $b" "$S" infer -m det-export -i "$b.record" -o "out-i2-$b.record"
  measure "records export $b" "$S" records export "$b.record" --images-dir "out-x-$b" -o "out-x-$b.json"
done
config maskrcnn_resnet50_fpn mask_bomb.record mask-mask_bomb.config
measure "train maskrcnn mask_bomb" "$S" train --pipeline-config mask-mask_bomb.config --train-dir run-mask
measure "eval --predictions pred_bomb" "$S" eval --predictions pred_bomb.record --num-classes 3 -o out-ep.json
measure "infer lraspp bomb20k.png" "$S" infer -m sem-export -i bomb20k.png --masks-dir out-masks
measure "labelbox2coco 30k mask URL" "$S" labelbox2coco lb_bomb.json -o out-lb.json
measure "download bomb20k.png" "$S" download coco_url_bomb.json --images-dir out-dl -o out-dl.json
measure "coco2tfrecord --download bomb20k.png" "$S" coco2tfrecord --annotations coco_url_bomb.json --images-dir out-c2t \
  --download -o out-c2t.record
measure "coco2tfrecord local bomb20k.png" "$S" coco2tfrecord --annotations coco_local_bomb.json --images-dir . \
  -o out-c2t2.record --include-masks
measure "validate local bomb20k.png" "$S" validate coco_local_bomb.json --images-dir .
if [ "$with_8k" = --with-8k ]; then
  sed "s#train.record#img_mid.record#g" sem.config >sem-mid.config
  sed "s#train.record#img_mid.record#g" det.config >det-mid.config
  measure "train lraspp 8000x8000 (in limit)" "$S" train --pipeline-config sem-mid.config --train-dir run-sem-mid
  measure "train fasterrcnn 8000x8000 (in limit)" "$S" train --pipeline-config det-mid.config --train-dir run-det-mid
  measure "infer fasterrcnn 8000x8000 (in limit)" "$S" infer -m det-export -i img_mid.record -o out-mid-det.record
  measure "infer lraspp 8000x8000 (in limit)" "$S" infer -m sem-export -i img_mid.record -o out-mid-sem.record
fi
