#!/usr/bin/env bash
# Encodes the text-format fixtures with protoc (as protoc-c embeds it) into the golden .bin
# files the Proto tests decode and re-encode. Run after changing a .txtpb or conformance.proto.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
protos=$(cd "$here/../../../Protos" && pwd)
cd "$protos"
for name in all_types all_types_maps; do
    protoc-c --encode=assay.v1.AllTypes assay/v1/conformance.proto < "$here/$name.txtpb" > "$here/$name.bin"
done
