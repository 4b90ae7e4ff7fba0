#!/usr/bin/env bash
# Refresh the browser libraries the demo page serves from /static/vendor, from the npm registry.
# The page has no build step: these files are committed, pinned, with their licences.
set -euo pipefail
cd "$(dirname "$0")/.."
PROTOBUFJS=8.8.1
AGORA_RTC=4.24.8
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "protobufjs@$PROTOBUFJS" "agora-rtc-sdk-ng@$AGORA_RTC" >/dev/null)
tar -xzf "$work/protobufjs-$PROTOBUFJS.tgz" -C "$work" package/dist/protobuf.min.js package/LICENSE
install -m 644 "$work/package/dist/protobuf.min.js" "$work/package/LICENSE" api/static/vendor/protobufjs/
rm -rf "$work/package"
tar -xzf "$work/agora-rtc-sdk-ng-$AGORA_RTC.tgz" -C "$work" package/AgoraRTC_N-production.js package/package.json
install -m 644 "$work/package/AgoraRTC_N-production.js" api/static/vendor/agora-rtc-sdk-ng/
(cd api/static/vendor && sha256sum protobufjs/protobuf.min.js agora-rtc-sdk-ng/AgoraRTC_N-production.js > SHA256SUMS)
echo "protobufjs $PROTOBUFJS and agora-rtc-sdk-ng $AGORA_RTC vendored; see api/static/vendor/README.md"
